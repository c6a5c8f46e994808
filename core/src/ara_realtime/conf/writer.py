"""Writer for the ``.conf`` format: text that the parser reads back to an equal Config.

Templates keep ``(!)``, ``=>`` arrows are kept, and a category is written with its
``(base,...)`` header and only its own lines when re-reading would copy exactly the same
inherited lines; otherwise it is written flattened. Anything the syntax cannot hold raises
``ValueError`` instead of being written differently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ara_realtime.conf.model import Category, Config

__all__ = ["to_text"]

_BLANKS = "".join(chr(i) for i in range(33))
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def to_text(cfg: Config) -> str:
    """All categories (templates included) as ``.conf`` text."""
    blocks: list[str] = []
    written: list[Category] = []
    for cat in cfg._categories:
        blocks.append(_category(cat, written))
        written.append(cat)
    return "\n".join(blocks)


def _escape(text: str) -> str:
    """Every ``;`` gets a backslash; the reader removes exactly the character before a ``;``."""
    return text.replace(";", "\\;")


def _category(cat: Category, written: list[Category]) -> str:
    for bad, what in (("]", "a ']'"), ("\n", "a newline"), ("\0", "a NUL")):
        if bad in cat.name:
            raise ValueError(f"category {cat.name!r}: the name contains {what}")
    inherited = _inherited_count(cat, written)
    options = ["!"] if cat.template else []
    if inherited is not None:
        options.extend(cat.bases)
    header = f"[{_escape(cat.name)}]"
    if options:
        header += "(" + ",".join(_escape(o) for o in options) + ")"
    lines = [header]
    for var in cat.variables[inherited or 0 :]:
        lines.append(_variable(cat, var.name, var.value, is_object=var.object))
    return "".join(line + "\n" for line in lines)


def _inherited_count(cat: Category, written: list[Category]) -> int | None:
    """How many leading variables a ``(bases)`` header reproduces, or ``None`` to flatten."""
    if not cat.bases:
        return None
    expected: list[tuple[str, str]] = []
    for spelled in cat.bases:
        if not _base_writable(spelled):
            return None
        base = _resolve(spelled, written)
        if base is None:
            return None
        expected.extend(base.items())
    if cat.items()[: len(expected)] != expected:
        return None
    return len(expected)


def _base_writable(spelled: str) -> bool:
    """Whether ``spelled`` survives as one inheritance option inside ``(...)``."""
    return (
        spelled != "!" and not spelled.startswith("+") and not any(ch in spelled for ch in ",)\n\0")
    )


def _resolve(spelled: str, written: list[Category]) -> Category | None:
    """The category the reader will copy for option ``spelled`` (first match, templates too)."""
    key = spelled.translate(_ASCII_LOWER)
    for cat in written:
        if not spelled or cat.name.translate(_ASCII_LOWER) == key:
            return cat
    return None


def _variable(cat: Category, name: str, value: str, *, is_object: bool) -> str:
    def fail(reason: str) -> ValueError:
        return ValueError(f"category {cat.name!r}, variable {name!r}: {reason}")

    if not name:
        raise fail("an empty variable name cannot be written")
    if "=" in name[1:]:
        raise fail("a variable name cannot contain '=' after its first character")
    for text, what in ((name, "name"), (value, "value")):
        if "\n" in text or "\0" in text:
            raise fail(f"the {what} contains a newline or NUL")
        if text != text.strip(_BLANKS):
            raise fail(f"the {what} has leading or trailing whitespace")
    out = _escape(name)
    if name[0] in "[#=\\":
        out = "\\" + out
    arrow = "=>" if is_object else "="
    return f"{out} {arrow} {_escape(value)}" if value else f"{out} {arrow}"
