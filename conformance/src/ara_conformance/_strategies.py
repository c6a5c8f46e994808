"""Hypothesis strategies: hostile values, LIKE patterns, conditions, rows, static configs."""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from ara_realtime.datatypes import Requirement

from ._model import StaticModelRow
from ._tables import TableSpec

__all__ = [
    "HOSTILE",
    "HOSTILE_ALPHABET",
    "OPERATORS",
    "condition",
    "fits",
    "integer_values",
    "like_patterns",
    "rows",
    "static_configs",
    "static_rows",
    "text_values",
    "unicode_chars",
]

#: The eight operators, canonical spelling.
OPERATORS: tuple[str, ...] = ("=", "!=", "<", "<=", ">", ">=", "LIKE", "NOT LIKE")

#: Characters that broke Asterisk's drivers (quoting, LIKE, the ^XX codec, LDAP filters).
HOSTILE_ALPHABET = "'\"\\%_*();^ \taA0"

#: Whole values that broke Asterisk's drivers or look like an attack.
HOSTILE: tuple[str, ...] = (
    "'",
    '"',
    "\\",
    "%",
    "_",
    "*",
    "(",
    ")",
    ";",
    "^",
    " ",
    "  lead",
    "trail  ",
    " both ",
    "a;b",
    "^3B",
    "^5e",
    "x^",
    "%_\\",
    "it's",
    'say "hi"',
    "back\\slash",
    "50%",
    "a_b",
    "(x)",
    "a*b",
    "';--",
    "' OR '1'='1",
    "\\%",
    "\\_",
    "\\\\",
    "ünïcödé",
    "電話",
    "🎉",
    "tab\there",
    "line\nbreak",
    "Alice",
    "alice",
)


def unicode_chars(*, ci_safe: bool = False) -> st.SearchStrategy[str]:
    """Any Unicode scalar value but NUL (surrogates are not characters).

    ``ci_safe`` keeps letters to ASCII, for drivers that declare case-insensitive matching
    (engines fold non-ASCII letters differently; the contract only pins ASCII).
    """
    if ci_safe:
        return st.one_of(
            st.characters(
                codec="utf-8", exclude_characters="\x00", exclude_categories=("Lu", "Ll", "Lt")
            ),
            st.sampled_from(string.ascii_letters),
        )
    return st.characters(codec="utf-8", exclude_characters="\x00")


def text_values(
    size: int, *, ci_safe: bool = False, empty: bool = True, max_length: int | None = None
) -> st.SearchStrategy[str]:
    """Values for a text column of ``size`` characters: hostile ones, any Unicode, long ones."""
    if max_length is not None:
        size = min(size, max_length)
    hostile = [h for h in HOSTILE if len(h) <= size and (not ci_safe or h.isascii())]
    parts: list[st.SearchStrategy[str]] = [
        st.sampled_from(hostile),
        st.text(alphabet=HOSTILE_ALPHABET, min_size=1, max_size=min(size, 8)),
        st.text(alphabet=unicode_chars(ci_safe=ci_safe), min_size=1, max_size=min(size, 12)),
        st.text(alphabet=unicode_chars(ci_safe=ci_safe), min_size=size, max_size=size),
    ]
    if empty:
        parts.append(st.just(""))
    return st.one_of(parts)


def integer_values(req: Requirement) -> st.SearchStrategy[str]:
    """Canonical decimal integers in the ``RQ`` type's range (the only text such a column takes)."""
    lo, hi = req.type.int_range or (-(2**31), 2**31 - 1)
    return st.one_of(
        st.integers(min_value=max(lo, -20), max_value=min(hi, 20)),
        st.integers(min_value=lo, max_value=hi),
    ).map(str)


def column_values(
    spec: TableSpec, column: str, *, ci_safe: bool = False, max_length: int | None = None
) -> st.SearchStrategy[str]:
    """Values for ``column`` of ``spec`` (integers for integer columns), ``""`` included."""
    req = spec.columns[column]
    if req.type.is_int:
        return st.one_of(integer_values(req), st.just(""))
    return text_values(req.size, ci_safe=ci_safe, max_length=max_length)


def _escape_like(ch: str) -> str:
    return "\\" + ch if ch in "%_\\" else ch


@st.composite
def like_patterns(draw: st.DrawFn, value: str = "") -> str:
    """A LIKE pattern, usually one derived from ``value`` so that it matches or nearly does.

    Never ends with a lone backslash (that is a separate, error-case test).
    """
    if not value or draw(st.integers(0, 4)) == 0:
        tokens = draw(
            st.lists(
                st.one_of(
                    st.sampled_from(["%", "_", "\\%", "\\_", "\\\\", "\\a"]),
                    st.sampled_from(list(HOSTILE_ALPHABET)).map(_escape_like),
                    unicode_chars().map(_escape_like),
                ),
                max_size=6,
            )
        )
        return "".join(tokens)
    out: list[str] = []
    if draw(st.booleans()):
        out.append("%")
    i = 0
    while i < len(value):
        roll = draw(st.integers(0, 9))
        if roll == 0:
            out.append("_")
        elif roll == 1:
            run = draw(st.integers(0, 3))
            out.append("%")
            i += run
            continue
        elif roll == 2 and draw(st.booleans()):
            out.append(_escape_like(draw(unicode_chars())))  # a likely mismatch
        else:
            out.append(_escape_like(value[i]))
        i += 1
    if draw(st.booleans()):
        out.append("%")
    return "".join(out)


@st.composite
def condition(
    draw: st.DrawFn,
    spec: TableSpec,
    pool: Sequence[str] = (),
    *,
    columns: Sequence[str] | None = None,
    ops: Sequence[str] = OPERATORS,
    ci_safe: bool = False,
    text_ordering: bool = True,
) -> tuple[str, str, str]:
    """One ``(column, op, value)``; values often come from ``pool`` (values already stored).

    ``text_ordering=False`` keeps ``< <= > >=`` off text columns (for drivers whose text
    order is a collation the suite cannot predict).
    """
    column = draw(st.sampled_from(list(columns or spec.columns)))
    integer = spec.columns[column].type.is_int
    usable = [
        op for op in sorted(ops) if text_ordering or integer or op not in ("<", "<=", ">", ">=")
    ]
    op = draw(st.sampled_from(usable or ["="]))
    req = spec.columns[column]
    seeds = [p for p in pool if p and (not integer or fits(req, p))]
    if op in ("LIKE", "NOT LIKE"):
        base = ""
        use_seed: bool = draw(st.booleans())
        if seeds and use_seed:
            base = draw(st.sampled_from(seeds))
        return column, op, draw(like_patterns(base))
    if integer:
        choices: list[st.SearchStrategy[str]] = [integer_values(req)]
        if seeds:
            choices.append(st.sampled_from(seeds))
        if op in ("=", "!="):
            choices.append(st.just(""))
        return column, op, draw(st.one_of(choices))
    text_choices: list[st.SearchStrategy[str]] = [text_values(spec.size(column), ci_safe=ci_safe)]
    if seeds:
        text_choices.append(st.sampled_from(seeds))
    if ci_safe and seeds:
        text_choices.append(st.sampled_from(seeds).map(str.swapcase))
    return column, op, draw(st.one_of(text_choices))


def _is_int(text: str) -> bool:
    try:
        return str(int(text)) == text
    except ValueError:
        return False


def fits(req: Requirement, value: str, max_length: int | None = None) -> bool:
    """Can ``value`` be stored in (and compared with) a column of type ``req``?"""
    if req.type.is_int:
        if not _is_int(value):
            return False
        lo, hi = req.type.int_range or (-(2**63), 2**64 - 1)
        return lo <= int(value) <= hi
    return len(value) <= min(req.size, max_length or req.size)


@st.composite
def rows(
    draw: st.DrawFn,
    spec: TableSpec,
    pool: Sequence[str] = (),
    *,
    ci_safe: bool = False,
    max_length: int | None = None,
    min_columns: int = 1,
) -> dict[str, str]:
    """A row to store: some of the columns, each value fresh or from ``pool``."""
    columns = draw(
        st.lists(
            st.sampled_from(list(spec.columns)),
            min_size=min_columns,
            max_size=len(spec.columns),
            unique=True,
        )
    )
    out: dict[str, str] = {}
    for column in columns:
        req = spec.columns[column]
        usable = [p for p in pool if fits(req, p, max_length)]
        if usable and draw(st.integers(0, 2)) > 0:
            out[column] = draw(st.sampled_from(usable))
        else:
            out[column] = draw(column_values(spec, column, ci_safe=ci_safe, max_length=max_length))
    return out


_NAME_ALPHABET = st.one_of(st.sampled_from("abcXYZ019_-.;^ "), unicode_chars())


def _names(max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(alphabet=_NAME_ALPHABET, min_size=1, max_size=max_size).filter(
        lambda s: s.strip() != "" and s != "#include"
    )


@st.composite
def static_configs(
    draw: st.DrawFn, max_length: int | None = None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """A random configuration: ``[(category, [(name, value), ...]), ...]``, in order."""
    cats = draw(st.lists(_names(), min_size=0, max_size=5))
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for cat in cats:
        variables = draw(
            st.lists(
                st.tuples(_names(), text_values(40, max_length=max_length)),
                min_size=1,
                max_size=4,
            )
        )
        out.append((cat, variables))
    return out


@st.composite
def static_rows(
    draw: st.DrawFn, filename: str, others: Sequence[str] = (), max_length: int | None = None
) -> list[StaticModelRow]:
    """Rows of ``filename`` (and some of ``others``) with colliding metrics and commented rows."""
    files = [filename, *others]
    out: list[StaticModelRow] = []
    for _ in range(draw(st.integers(0, 12))):
        out.append(
            StaticModelRow(
                filename=draw(st.sampled_from(files)),
                category=draw(st.sampled_from(["general", "General", "a", "b", "z;^", "é"])),
                var_name=draw(st.sampled_from(["x", "y", "X", "allow", "a b", "%"])),
                var_val=draw(text_values(40, max_length=max_length)),
                cat_metric=draw(st.integers(-1, 3)),
                var_metric=draw(st.integers(-1, 3)),
                commented=draw(st.sampled_from([0, 0, 0, 1])),
            )
        )
    return out


def describe_row(row: dict[str, Any]) -> str:
    """A short, readable form of a row for failure messages."""
    return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in row.items()) + "}"
