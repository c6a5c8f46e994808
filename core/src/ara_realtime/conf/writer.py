"""Writer for the ``.conf`` format: text that the parser reads back to an equal Config.

Templates keep ``(!)``, ``=>`` arrows are kept, and a category is written with its
``(base,...)`` header and only its own lines when re-reading would copy exactly the same
inherited lines; otherwise it is written flattened. Anything the syntax cannot hold raises
``ValueError`` instead of being written differently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ara_realtime.conf.limits import MAX_CATEGORY_NAME_BYTES, MAX_LINE_BYTES, MAX_VALUE_LENGTH

if TYPE_CHECKING:
    from ara_realtime.conf.model import Category, Config

__all__ = ["to_text"]

_BLANKS = "".join(chr(i) for i in range(33))
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ROOM = MAX_LINE_BYTES - 1  # the longest line (in UTF-8 bytes) that the reader keeps


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


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
    if _size(cat.name) > MAX_CATEGORY_NAME_BYTES:
        raise ValueError(
            f"category {cat.name!r}: the name is longer than {MAX_CATEGORY_NAME_BYTES} bytes "
            "(the reader keeps only that many)"
        )
    inherited = _inherited_count(cat, written)
    header = _header(cat, cat.bases if inherited is not None else [])
    if _size(header) > _ROOM:  # too many bases for one line: write the copies instead
        inherited = None
        header = _header(cat, [])
    lines = [header]
    for var in cat.variables[inherited or 0 :]:
        lines.append(_variable(cat, var.name, var.value, is_object=var.object))
    return "".join(line + "\n" for line in lines)


def _header(cat: Category, bases: list[str]) -> str:
    options = ["!"] if cat.template else []
    options.extend(bases)
    header = f"[{_escape(cat.name)}]"
    if options:
        header += "(" + ",".join(_escape(o) for o in options) + ")"
    return header


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
    if len(value) > MAX_VALUE_LENGTH:
        raise fail(f"the value is longer than {MAX_VALUE_LENGTH} characters")
    out = _escape(name)
    if name[0] in "[#=\\":
        out = "\\" + out
    arrow = "=>" if is_object else "="
    if not value:
        return f"{out} {arrow}"
    line = f"{out} {arrow} {_escape(value)}"
    if _size(line) <= _ROOM:
        return line
    # Too long for one line (the reader would skip it): the rest goes on "name +=" lines.
    first, more = f"{out} {arrow} ", f"{out} +="
    if _size(more) > _ROOM // 2:
        raise fail(f"the name is too long for a line of at most {_ROOM} bytes")
    chunks = _split(_escape(value), _ROOM - _size(first), _ROOM - _size(more))
    if chunks is None:
        raise fail("the value cannot be split into lines (a long run of blanks)")
    return "\n".join([first + chunks[0], *(more + c for c in chunks[1:])])


def _split(text: str, room_first: int, room: int) -> list[str] | None:
    """``text`` in pieces of at most ``room`` bytes that ``name +=piece`` lines rebuild.

    A piece must not end with a blank (the line's end is stripped) nor between the ``\\`` and
    the ``;`` of an escape.
    """
    pieces: list[str] = []
    start, n = 0, len(text)
    while start < n:
        limit = room_first if not pieces else room
        end, used = start, 0
        while end < n:
            width = _size(text[end])
            if used + width > limit:
                break
            used += width
            end += 1
        while end < n and end > start and (text[end - 1] <= " " or text[end] == ";"):
            end -= 1
        if end == start:
            return None
        pieces.append(text[start:end])
        start = end
    return pieces
