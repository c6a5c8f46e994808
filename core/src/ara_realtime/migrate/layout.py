"""How a ``.conf`` file is laid out as rows of a static-configuration table, and back.

The loader's rules (``ara_realtime.static``; docs/semantics.md, "Static configuration") decide
what rows must say. A file's parts, in order, are its categories (templates included) and
the ``#include`` lines kept as such; each category gets its own ``cat_metric``, counting
down from the number of parts, so that rows sorted by ``cat_metric`` descending come back in
file order and two categories of the same name stay two; ``var_metric`` counts the
category's variables from 0. So:

* a category's variables are its rows, in order, inherited copies included (what the parser
  made of ``[child](base)``: loading gives exactly those);
* a category without variables is one row with an empty ``var_name``;
* an ``#include`` is a ``#include`` row at the end of the run of the category before it, or
  in a run of its own (category ``""``) when no category comes before it: loading splices
  the included file in at that point, as it does for a file;
* a template's variables are rows with ``commented = 1``, with a ``#template`` marker row:
  no loader (Asterisk's or ours) reads commented rows, just as no module sees a template,
  and :func:`parts_from_rows` gives it back;
* a category with bases (``[child](a,b)``) gets a ``commented = 1`` marker row ``#inherit``
  whose value is the bases, so the text written back keeps the header and only the child's
  own lines when that gives the same variables;
* a file without categories is one ``commented = 1`` marker row ``#empty``, so that it is
  there to be written back (loading it gives an empty config, as the file does).

``=>`` and ``=`` are the same assignment to every module; the table has no place for the
difference, so text written back uses ``=``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby

from ..conf import Category, Config
from ..static import INCLUDE

__all__ = [
    "EMPTY",
    "HIDDEN",
    "INHERIT",
    "TEMPLATE",
    "Include",
    "Part",
    "StaticRecord",
    "parts_from_rows",
    "parts_key",
    "rows_for",
]

#: ``var_name`` of the marker row of a template (``commented = 1``).
TEMPLATE = "#template"
#: ``var_name`` of the marker row holding a category's bases, comma-separated.
INHERIT = "#inherit"
#: ``var_name`` of the marker row of a file without categories.
EMPTY = "#empty"
#: ``commented`` of template rows and marker rows.
HIDDEN = 1


@dataclass(frozen=True)
class Include:
    """An ``#include`` kept as such: the file named loads in its place."""

    name: str


#: One part of a file: a category (templates included) or an include.
Part = Category | Include


@dataclass(frozen=True)
class StaticRecord:
    """One row of the static table, without its ``filename``."""

    category: str
    var_name: str
    var_val: str
    cat_metric: int
    var_metric: int
    commented: int = 0

    def values(self, filename: str) -> dict[str, str]:
        """The row as the API writes it."""
        return {
            "filename": filename,
            "category": self.category,
            "var_name": self.var_name,
            "var_val": self.var_val,
            "cat_metric": str(self.cat_metric),
            "var_metric": str(self.var_metric),
            "commented": str(self.commented),
        }

    @property
    def active(self) -> bool:
        return self.commented == 0

    def sort_key(self) -> tuple[int, int, str, str]:
        """The contract's order: cat_metric descending, var_metric, category, var_name."""
        return (-self.cat_metric, self.var_metric, self.category, self.var_name)


def rows_for(parts: Sequence[Part], filename: str) -> list[StaticRecord]:
    """The rows of a file made of ``parts`` (see the module's description).

    :raises ValueError: a part the table cannot hold (naming file, category and variable).
    """
    slots: list[tuple[Category | None, list[str]]] = []  # (category, includes after it)
    for part in parts:
        if isinstance(part, Include):
            if not slots:
                slots.append((None, []))
            slots[-1][1].append(part.name)
        else:
            slots.append((part, []))
    out: list[StaticRecord] = []
    for i, (cat, includes) in enumerate(slots):
        metric = len(slots) - i
        name = "" if cat is None else cat.name
        if cat is not None:
            out.extend(_category_rows(cat, metric, filename))
        position = len(cat.variables) if cat is not None else 0
        for n, target in enumerate(includes):
            out.append(StaticRecord(name, INCLUDE, target, metric, position + n))
    if not out:
        out.append(StaticRecord("", EMPTY, "", 0, 0, HIDDEN))
    return out


def _category_rows(cat: Category, metric: int, filename: str) -> list[StaticRecord]:
    hidden = HIDDEN if cat.template else 0
    out: list[StaticRecord] = []
    if cat.template:
        out.append(StaticRecord(cat.name, TEMPLATE, "", metric, -2, HIDDEN))
    if cat.bases:
        if any("," in b for b in cat.bases):  # cannot come from a header, which splits on ","
            raise ValueError(f"{filename}: [{cat.name}]: a base name contains ','")
        out.append(StaticRecord(cat.name, INHERIT, ",".join(cat.bases), metric, -1, HIDDEN))
    for j, var in enumerate(cat.variables):
        if var.name == INCLUDE or (cat.template and var.name in (TEMPLATE, INHERIT)):
            raise ValueError(
                f"{filename}: [{cat.name}]: a variable named {var.name!r} cannot be stored: "
                "loaders take that name for a directive"
            )
        if not var.name:
            raise ValueError(f"{filename}: [{cat.name}]: a variable without a name")
        out.append(StaticRecord(cat.name, var.name, var.value, metric, j, hidden))
    if not cat.variables and not cat.template:
        out.append(StaticRecord(cat.name, "", "", metric, 0))
    return out


# -- back -------------------------------------------------------------------------------------


def _record(row: Mapping[str, str]) -> StaticRecord:
    """A row as the API returns it (NULL and empty columns absent) as a record."""

    def number(column: str) -> int:
        text = row.get(column, "0").strip() or "0"
        try:
            return int(float(text)) if "." in text else int(text)
        except ValueError:
            raise ValueError(f"column {column!r} holds {text!r}, not a number") from None

    # commented as loaders take it: Asterisk's LDAP entries say FALSE/TRUE
    switched_off = row.get("commented", "").strip().lower() not in _ACTIVE
    return StaticRecord(
        row.get("category", ""),
        row.get("var_name", ""),
        row.get("var_val", ""),
        number("cat_metric"),
        number("var_metric"),
        HIDDEN if switched_off else 0,
    )


#: ``commented`` values of an active row.
_ACTIVE = frozenset({"", "0", "false", "no", "off"})


@dataclass
class Restored:
    """What :func:`parts_from_rows` found: the parts, and rows it left out."""

    parts: list[Part]
    #: commented rows that are not a template's or a marker (lines someone switched off)
    skipped: int


def parts_from_rows(rows: Iterable[Mapping[str, str]], filename: str = "") -> Restored:
    """The parts of a file from all its rows (active and commented), as :func:`rows_for` laid
    them out; rows written by anyone else come back as the loader reads them, plus templates.

    Active rows make categories and includes exactly as ``ara_realtime.static.build_config``
    does (so the visible categories are what loading gives); commented runs with a
    ``#template`` marker are templates, placed by their ``cat_metric``; ``#inherit`` markers
    give bases, kept when re-reading ``[name](bases)`` would copy exactly the variables that
    lead the category's own (otherwise the category is written out in full).
    """
    records = sorted(map(_record, rows), key=StaticRecord.sort_key)
    events: list[tuple[tuple[int, int, str, str], int, Include | _Run]] = []
    bases: dict[tuple[str, int], list[str]] = {}
    skipped = 0
    hidden = [r for r in records if not r.active]
    for key, group in groupby(hidden, lambda r: (r.category, r.cat_metric)):
        run = list(group)
        for r in run:
            if r.var_name == INHERIT:
                bases[key] = r.var_val.split(",")
        if any(r.var_name == TEMPLATE for r in run):
            variables = [r for r in run if r.var_name not in (TEMPLATE, INHERIT)]
            events.append((run[0].sort_key(), 1, _Run(run[0], variables, template=True)))
        else:
            skipped += sum(1 for r in run if r.var_name not in (INHERIT, EMPTY))
    active = [r for r in records if r.active]
    for _, group in groupby(active, lambda r: (r.category, r.cat_metric)):
        current: _Run | None = None
        for r in group:
            if r.var_name == INCLUDE:
                events.append((r.sort_key(), 0, Include(r.var_val)))
                continue
            if current is None:
                current = _Run(r, [])
                events.append((r.sort_key(), 0, current))
            if r.var_name:
                current.variables.append(r)
    events.sort(key=lambda e: (e[0], e[1]))
    cfg = Config()
    parts: list[Part] = []
    for _, _, item in events:
        if isinstance(item, Include):
            parts.append(item)
            continue
        first = item.first
        parts.append(
            _category(
                cfg,
                first.category,
                template=item.template,
                bases=bases.get((first.category, first.cat_metric), []),
                items=[(r.var_name, r.var_val) for r in item.variables],
                filename=filename,
            )
        )
    return Restored(parts, skipped)


@dataclass
class _Run:
    """A category being read back: its first row and its variable rows."""

    first: StaticRecord
    variables: list[StaticRecord]
    template: bool = False


def _category(
    cfg: Config,
    name: str,
    *,
    template: bool,
    bases: list[str],
    items: list[tuple[str, str]],
    filename: str,
) -> Category:
    """Add a category to ``cfg``: with its bases when they give its leading variables."""
    inherited: list[tuple[str, str]] = []
    for spelled in bases:
        base = _find_base(cfg, spelled)
        if base is None:
            bases = []
            break
        inherited.extend(base.items())
    if bases and items[: len(inherited)] != inherited:
        bases = []
    cat = cfg.add_category(name, template=template, bases=bases, file=filename or None)
    for var_name, value in items[len(inherited) if bases else 0 :]:
        cat.append(var_name, value)
    return cat


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _find_base(cfg: Config, spelled: str) -> Category | None:
    """The category ``[x](spelled)`` copies: the first of that name (ASCII letters in any
    case), templates included; an empty name: the first category."""
    key = spelled.translate(_ASCII_LOWER)
    for cat in cfg.categories(templates=True):
        if not spelled or cat.name.translate(_ASCII_LOWER) == key:
            return cat
    return None


def parts_key(parts: Iterable[Part]) -> list[tuple[object, ...]]:
    """What two part lists must share to give equal files: categories by name, template flag
    and ``(name, value)`` list; includes by name."""
    return [
        ("include", p.name) if isinstance(p, Include) else (p.name, p.template, p.items())
        for p in parts
    ]
