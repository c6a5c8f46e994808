"""Conditions: ``("name LIKE", "al%")`` pairs turned into validated :class:`Condition` objects.

The one place where operators, identifiers and the LIKE language are defined. Drivers receive
only :class:`Condition` objects whose column and operator are already checked, so no text from
a caller ever reaches a query unvalidated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import NamedTuple

from .errors import QueryError

__all__ = [
    "OPERATORS",
    "Condition",
    "ConditionsArg",
    "check_identifier",
    "check_value",
    "like_matches_empty",
    "like_regex",
    "parse_conditions",
    "parse_field",
    "parse_pair",
    "parse_values",
]

#: The operators a condition may carry, in canonical spelling.
OPERATORS: frozenset[str] = frozenset({"=", "!=", "<", "<=", ">", ">=", "LIKE", "NOT LIKE"})

#: Identifiers: letters, digits, ``_ @ $ # -`` (Asterisk columns such as ``100rel``, ``@body``,
#: ``event_asterisk-mwi``). Tables may add ``.`` for a schema prefix.
_COLUMN_RE = re.compile(r"[\w@$#][\w@$#-]*")
_TABLE_RE = re.compile(r"[\w@$#][\w@$#-]*(?:\.[\w@$#][\w@$#-]*)?")


class Condition(NamedTuple):
    """One validated condition: ``column op value``. ``op`` is one of :data:`OPERATORS`."""

    column: str
    op: str
    value: str


#: What the API accepts as conditions: pairs, or one mapping of field -> value.
ConditionsArg = tuple[str, str] | Mapping[str, str]


def check_identifier(name: str, *, kind: str = "column", family: str | None = None) -> str:
    """Return ``name`` if it is a valid column (or ``kind="table"``) name, else raise."""
    pattern = _TABLE_RE if kind == "table" else _COLUMN_RE
    if not isinstance(name, str) or not pattern.fullmatch(name):
        where = f" of family {family!r}" if family else ""
        raise QueryError(
            f"invalid {kind} name {name!r}{where}: use letters, digits and _ @ $ # -",
            family=family,
            field=name if kind == "column" else None,
        )
    return name


def check_value(value: object, column: str, family: str | None = None) -> str:
    """Return ``value`` if it is a ``str`` any storage can hold, else raise :class:`QueryError`.

    Refused before any I/O: a NUL character (C drivers cut the value there) and a lone
    surrogate (``"\\ud800"``: not Unicode text, so not encodable as UTF-8).
    """
    if type(value) is not str:
        raise QueryError(
            f"value for {column!r} must be str, not {type(value).__name__}",
            family=family,
            field=column,
        )
    if "\x00" in value:
        raise QueryError(
            f"value for {column!r} contains a NUL character", family=family, field=column
        )
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise QueryError(
                f"value for {column!r} contains a lone surrogate "
                f"(U+{ord(value[exc.start]):04X} at position {exc.start}), which is not text",
                family=family,
                field=column,
            ) from None
    return value


@lru_cache(maxsize=4096)
def _parse_field(field: str) -> tuple[str, str]:
    column, sep, rest = field.partition(" ")
    if not sep:
        return check_identifier(column), "="
    op = " ".join(rest.split()).upper()
    if op not in OPERATORS:
        raise QueryError(
            f"unknown operator {rest.strip()!r} in field {field!r}; "
            f"use one of {', '.join(sorted(OPERATORS))}",
            field=field,
        )
    return check_identifier(column), op


def parse_field(field: str, family: str | None = None) -> tuple[str, str]:
    """Split ``"name LIKE"`` into ``("name", "LIKE")``; a bare name means ``=``."""
    if type(field) is not str:
        raise QueryError(f"field name must be str, not {type(field).__name__}", family=family)
    try:
        return _parse_field(field)
    except QueryError as exc:
        exc.family = family
        raise


def _condition(column: str, op: str, value: object, family: str | None) -> Condition:
    text = check_value(value, column, family)
    if op in {"LIKE", "NOT LIKE"}:
        try:
            like_regex(text)
        except QueryError as exc:
            exc.family, exc.field = family, column
            raise
    return Condition(column, op, text)


_new_condition = tuple.__new__  # skips NamedTuple's Python-level __new__ on the hot path

#: ``field`` text -> (column, op) for fields already validated: the hot path's only look-up.
_FIELDS: dict[str, tuple[str, str]] = {}
_FIELDS_MAX = 4096
_PLAIN_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})


def _one(field: object, value: object, family: str | None) -> Condition:
    """Validate one ``(field, value)`` pair (the slow path; remembers valid fields)."""
    column, op = parse_field(field, family)  # type: ignore[arg-type]
    cond = _condition(column, op, value, family)
    if len(_FIELDS) >= _FIELDS_MAX:
        _FIELDS.clear()
    _FIELDS[field] = (column, op)  # type: ignore[index]
    return cond


def parse_pair(field: object, value: object, family: str | None = None) -> tuple[Condition]:
    """One ``(field, value)`` pair as a 1-tuple of conditions (the hot path of ``load``)."""
    known = _FIELDS.get(field) if type(field) is str else None
    if (
        known is not None
        and known[1] in _PLAIN_OPS
        and type(value) is str
        and value.isascii()
        and "\x00" not in value
    ):
        return (_new_condition(Condition, (known[0], known[1], value)),)
    return (_one(field, value, family),)


def parse_conditions(
    args: Iterable[ConditionsArg],
    kwargs: Mapping[str, str] | None = None,
    family: str | None = None,
) -> tuple[Condition, ...]:
    """Turn the API's condition arguments into :class:`Condition` objects, in order.

    ``args`` holds ``(field, value)`` pairs or mappings; ``kwargs`` are plain equalities.
    """
    out: list[Condition] = []
    for arg in args:
        if type(arg) is tuple and len(arg) == 2:
            field, value = arg
            known = _FIELDS.get(field) if type(field) is str else None
            if (
                known is not None
                and known[1] in _PLAIN_OPS
                and type(value) is str
                and value.isascii()
                and "\x00" not in value
            ):
                out.append(_new_condition(Condition, (known[0], known[1], value)))
            else:
                out.append(_one(field, value, family))
        elif isinstance(arg, tuple):
            raise QueryError(
                f"a condition is a (field, value) pair, got {len(arg)} items", family=family
            )
        elif isinstance(arg, Mapping):
            for field, value in arg.items():
                out.append(_one(field, value, family))
        else:
            raise QueryError(
                f"a condition is a (field, value) pair or a mapping, not {type(arg).__name__}",
                family=family,
            )
    if kwargs:
        for column, value in kwargs.items():
            known = _FIELDS.get(column)
            if known is None or known[1] != "=":
                check_identifier(column, family=family)
                if len(_FIELDS) >= _FIELDS_MAX:
                    _FIELDS.clear()
                _FIELDS[column] = (column, "=")
            if type(value) is str and value.isascii() and "\x00" not in value:
                out.append(_new_condition(Condition, (column, "=", value)))
            else:
                out.append(Condition(column, "=", check_value(value, column, family)))
    return tuple(out)


#: Column names already found valid by :func:`parse_values` (its hot path's only look-up).
_COLUMNS: set[str] = set()


def parse_values(
    fields: Mapping[str, str] | Iterable[tuple[str, str]], family: str | None = None
) -> tuple[tuple[str, str], ...]:
    """Validate the ``column -> value`` pairs of a write (no operators allowed)."""
    if type(fields) is dict and fields:  # a dict of known columns and clean text: as it is
        items = tuple(fields.items())
        for column, value in items:
            if (
                column not in _COLUMNS
                or type(value) is not str
                or not value.isascii()
                or "\x00" in value
            ):
                break
        else:
            return items
    pairs = fields.items() if isinstance(fields, Mapping) else fields
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for column, value in pairs:
        check_identifier(column, family=family)
        if len(_COLUMNS) >= _FIELDS_MAX:
            _COLUMNS.clear()
        _COLUMNS.add(column)
        if column in seen:
            raise QueryError(f"column {column!r} given twice", family=family, field=column)
        seen.add(column)
        out.append((column, check_value(value, column, family)))
    if not out:
        raise QueryError("at least one column to write is required", family=family)
    return tuple(out)


@lru_cache(maxsize=1024)
def like_regex(pattern: str) -> re.Pattern[str]:
    """Compile a LIKE pattern: ``%`` any run, ``_`` one character, ``\\`` escapes the next.

    The pattern is anchored at both ends (LIKE matches the whole value), so ``match``,
    ``search`` and ``fullmatch`` agree: ``like_regex("al%").search("xalice")`` is None. NULL
    counts as ``""`` for LIKE: match an absent value as the empty string. A pattern ending in
    a lone backslash is a :class:`~ara_realtime.QueryError`.
    """
    parts: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, None)
            if nxt is None:
                raise QueryError(f"LIKE pattern {pattern!r} ends with an escaping backslash")
            parts.append(re.escape(nxt))
        elif ch == "%":
            parts.append(".*")
        elif ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("\\A(?:" + "".join(parts) + ")\\Z", re.DOTALL)


def like_matches_empty(pattern: str) -> bool:
    """True if the LIKE pattern matches the empty string (it is made of ``%`` only)."""
    return like_regex(pattern).fullmatch("") is not None
