"""The reference model: the contract in plain Python, used as the oracle.

Written from ``docs/`` and the contract, not from any driver: a table is a list of rows
(``dict`` of column -> non-empty value), conditions are ``(column, op, value)`` triples with a
canonical operator. Nothing here imports a driver or the core's LIKE compiler.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ara_realtime.conf import Config

__all__ = [
    "LikeError",
    "Model",
    "StaticModelRow",
    "canonical_rows",
    "decode_codec",
    "like_match",
    "static_config",
]

Cond = tuple[str, str, str]
Row = dict[str, str]


class LikeError(ValueError):
    """A LIKE pattern the contract refuses (a trailing lone backslash)."""


def _like_tokens(pattern: str) -> list[tuple[str, str]]:
    """``("any", "")`` for ``%``, ``("one", "")`` for ``_``, ``("lit", ch)`` otherwise."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 == len(pattern):
                raise LikeError(f"LIKE pattern {pattern!r} ends with a lone backslash")
            out.append(("lit", pattern[i + 1]))
            i += 2
            continue
        if ch == "%":
            out.append(("any", ""))
        elif ch == "_":
            out.append(("one", ""))
        else:
            out.append(("lit", ch))
        i += 1
    return out


def like_match(pattern: str, value: str, *, fold: Callable[[str], str] | None = None) -> bool:
    """LIKE by dynamic programming over characters (no regular expressions)."""
    tokens = _like_tokens(pattern)
    if fold is not None:
        value = fold(value)
        tokens = [(k, fold(c)) for k, c in tokens]
    # reach[j]: the first i tokens can match value[:j]
    reach = [True] + [False] * len(value)
    for kind, ch in tokens:
        nxt = [False] * (len(value) + 1)
        if kind == "any":
            seen = False
            for j in range(len(value) + 1):
                seen = seen or reach[j]
                nxt[j] = seen
        else:
            for j in range(1, len(value) + 1):
                if reach[j - 1] and (kind == "one" or value[j - 1] == ch):
                    nxt[j] = True
        reach = nxt
    return reach[len(value)]


def ascii_fold(text: str) -> str:
    """Fold ASCII letters only: what every case-insensitive engine agrees on."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def decode_codec(raw: str) -> str:
    """Asterisk's ``^XX`` decoding (either hex case), written out by hand."""
    out: list[str] = []
    i = 0
    hexdigits = "0123456789abcdefABCDEF"
    while i < len(raw):
        if (
            raw[i] == "^"
            and i + 2 < len(raw)
            and raw[i + 1] in hexdigits
            and raw[i + 2] in hexdigits
        ):
            out.append(chr(int(raw[i + 1 : i + 3], 16)))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def canonical_rows(rows: Iterable[Mapping[str, Any]], *, decode: bool = False) -> list[Row]:
    """Raw storage rows -> contract rows: NULL and ``""`` dropped, numbers as text."""
    out: list[Row] = []
    for raw in rows:
        row: Row = {}
        for column, value in raw.items():
            if value is None:
                continue
            if isinstance(value, bytes):
                text = value.decode("utf-8")
            elif isinstance(value, bool):
                text = str(int(value))
            else:
                text = str(value)
            if decode:
                text = decode_codec(text)
            if text != "":
                row[column] = text
        out.append(row)
    return out


def _freeze(row: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(row.items()))


@dataclass
class Model:
    """One table of the contract: rows, the integer columns, the declared deviations."""

    columns: Sequence[str]
    integer: frozenset[str] = frozenset()
    case_insensitive: bool = False
    text_order: str = "binary"
    rows: list[Row] = field(default_factory=list)

    # -- conditions ---------------------------------------------------------------------

    def _eq(self, column: str, a: str, b: str) -> bool:
        if column in self.integer and a and b:
            return int(a) == int(b)
        if self.case_insensitive:
            return ascii_fold(a) == ascii_fold(b)
        return a == b

    def _fold(self) -> Callable[[str], str] | None:
        return ascii_fold if self.case_insensitive else None

    def matches(self, row: Mapping[str, str], cond: Cond) -> bool:
        """Does ``row`` satisfy ``column op value``? (raises LikeError for a bad pattern)"""
        column, op, want = cond
        have = row.get(column, "")
        if op == "=":
            return self._eq(column, have, want) if (have and want) else have == want
        if op == "!=":
            return not (self._eq(column, have, want) if (have and want) else have == want)
        if op == "LIKE":
            return like_match(want, have, fold=self._fold())
        if op == "NOT LIKE":
            return not like_match(want, have, fold=self._fold())
        if have == "":
            return False  # < <= > >= never match an absent value
        a: Any
        b: Any
        if column in self.integer:
            if want == "":
                raise ValueError("ordering operand on an integer column must be a number")
            a, b = int(have), int(want)
        else:
            a, b = have, want
        if op == "<":
            return bool(a < b)
        if op == "<=":
            return bool(a <= b)
        if op == ">":
            return bool(a > b)
        if op == ">=":
            return bool(a >= b)
        raise ValueError(f"unknown operator {op!r}")

    def check_conditions(self, conds: Sequence[Cond]) -> None:
        """Raise LikeError now if any pattern is invalid (the contract refuses it up front)."""
        for _, op, value in conds:
            if op in ("LIKE", "NOT LIKE"):
                _like_tokens(value)

    def select(self, conds: Sequence[Cond]) -> list[Row]:
        self.check_conditions(conds)
        return [r for r in self.rows if all(self.matches(r, c) for c in conds)]

    # -- ordering -----------------------------------------------------------------------

    def sort_key(self, column: str) -> Callable[[Mapping[str, str]], tuple[int, Any]]:
        """Absent first; then numbers numerically or text by code point."""

        def key(row: Mapping[str, str]) -> tuple[int, Any]:
            value = row.get(column, "")
            if value == "":
                return (0, 0)
            if column in self.integer:
                return (1, int(value))
            return (1, value)

        return key

    # -- operations ---------------------------------------------------------------------

    def load_candidates(self, conds: Sequence[Cond]) -> list[Row]:
        """Every row ``load`` may return (it returns one of them, or None if empty)."""
        return [dict(r) for r in self.select(conds)]

    def load_multi(self, conds: Sequence[Cond]) -> list[Row]:
        """Matching rows in a valid order (ties may come in any order)."""
        rows = [dict(r) for r in self.select(conds)]
        if self.text_order == "binary" or conds[0][0] in self.integer:
            rows.sort(key=self.sort_key(conds[0][0]))
        return rows

    def store(self, values: Mapping[str, str]) -> int:
        self.rows.append({c: v for c, v in values.items() if v != ""})
        return 1

    def update(self, conds: Sequence[Cond], values: Mapping[str, str]) -> int:
        hit = self.select(conds)
        for row in hit:
            for column, value in values.items():
                if value == "":
                    row.pop(column, None)
                else:
                    row[column] = value
        return len(hit)

    def destroy(self, conds: Sequence[Cond]) -> int:
        hit = {id(r) for r in self.select(conds)}
        self.rows = [r for r in self.rows if id(r) not in hit]
        return len(hit)

    # -- comparing results --------------------------------------------------------------

    def same_rows(
        self, got: Iterable[Mapping[str, str]], want: Iterable[Mapping[str, str]]
    ) -> bool:
        """Equal as multisets of rows."""
        return Counter(_freeze(r) for r in got) == Counter(_freeze(r) for r in want)

    def check_order(self, rows: Sequence[Mapping[str, str]], column: str) -> str | None:
        """``None`` if ``rows`` are in contract order by ``column``, else what is wrong."""
        if self.text_order != "binary" and column not in self.integer:
            return None
        key = self.sort_key(column)
        for i in range(1, len(rows)):
            if key(rows[i - 1]) > key(rows[i]):
                return (
                    "load_multi must order by the first condition's column ascending, absent "
                    f"values first: row {i} ({column}={rows[i].get(column, '<absent>')!r}) "
                    f"comes after {column}={rows[i - 1].get(column, '<absent>')!r}"
                )
        return None

    def column_order_problem(self, row: Mapping[str, str]) -> str | None:
        """``None`` if the row's keys follow table column order and hold no empty value."""
        order = {c: i for i, c in enumerate(self.columns)}
        keys = list(row)
        for key in keys:
            if key not in order:
                return f"row has column {key!r} that the table does not have"
            if row[key] == "":
                return f"row holds an empty value for {key!r}; NULL/empty must be left out"
        if keys != sorted(keys, key=order.__getitem__):
            return f"row columns {keys} are not in table column order"
        return None


# -- static configuration ---------------------------------------------------------------


@dataclass(frozen=True)
class StaticModelRow:
    """One row of an ``ast_config`` table."""

    filename: str
    category: str
    var_name: str
    var_val: str
    cat_metric: int
    var_metric: int
    commented: int = 0

    def as_values(self) -> dict[str, str]:
        return {
            "filename": self.filename,
            "category": self.category,
            "var_name": self.var_name,
            "var_val": self.var_val,
            "cat_metric": str(self.cat_metric),
            "var_metric": str(self.var_metric),
            "commented": str(self.commented),
        }


def static_config(rows: Sequence[StaticModelRow], filename: str, *, _depth: int = 0) -> Config:
    """The Config the contract builds from ``rows`` for ``filename``.

    Active rows of the file ordered by cat_metric descending, var_metric ascending, category,
    var_name; a new category when the name or cat_metric changes; ``#include`` rows splice in
    the included file (from the same rows); a row with an empty var_name adds no variable.
    """
    if _depth > 10:
        raise ValueError("include loop in the model's rows")
    active = [r for r in rows if r.filename == filename and r.commented == 0]
    active.sort(key=lambda r: (-r.cat_metric, r.var_metric, r.category, r.var_name))
    cfg = Config()
    current = None
    key: tuple[str, int] | None = None
    for r in active:
        if r.var_name == "#include":
            cfg.extend(static_config(rows, r.var_val, _depth=_depth + 1))
            continue
        if current is None or key != (r.category, r.cat_metric):
            current = cfg.add_category(r.category)
            key = (r.category, r.cat_metric)
        if r.var_name:
            current.append(r.var_name, r.var_val)
    return cfg
