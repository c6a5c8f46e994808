"""Value types shared by the API and the driver contract."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import NamedTuple

from .conditions import check_identifier
from .errors import QueryError

__all__ = [
    "RQ",
    "STATIC_COLUMNS",
    "Requirement",
    "RequirementSpec",
    "Row",
    "StaticRow",
    "StaticTuple",
    "parse_requirements",
]

#: One result row: column -> value in the table's column order, NULL/empty columns left out.
Row = dict[str, str]


#: The columns of Asterisk's static-configuration table (``ast_config``) that loading reads.
STATIC_COLUMNS: tuple[str, ...] = (
    "filename",
    "category",
    "var_name",
    "var_val",
    "cat_metric",
    "var_metric",
    "commented",
)

#: One active row of a static-configuration table as ``ara_load_static`` yields it:
#: ``(category, var_name, var_val, cat_metric, var_metric)``. A plain tuple, so an SQL driver
#: hands over its result rows as they come; :class:`StaticRow` is the same row with names.
StaticTuple = tuple[str, str, str, int, int]


class StaticRow(NamedTuple):
    """A :data:`StaticTuple` with names (a driver may build these for readability)."""

    category: str
    var_name: str
    var_val: str
    cat_metric: int = 0
    var_metric: int = 0


class RQ(enum.IntEnum):
    """Asterisk's ``RQ_*`` column types for ``require``, in Asterisk's enum order."""

    INTEGER1 = 0
    UINTEGER1 = 1
    INTEGER2 = 2
    UINTEGER2 = 3
    INTEGER3 = 4
    UINTEGER3 = 5
    INTEGER4 = 6
    UINTEGER4 = 7
    INTEGER8 = 8
    UINTEGER8 = 9
    CHAR = 10
    FLOAT = 11
    DATE = 12
    DATETIME = 13

    @property
    def is_int(self) -> bool:
        """True for the ten integer kinds (``INTEGER1`` ... ``UINTEGER8``)."""
        return self <= RQ.UINTEGER8

    @property
    def is_numeric(self) -> bool:
        """True for the kinds whose columns compare and sort as numbers: the ten integer
        kinds and ``FLOAT``. ``CHAR``, ``DATE`` and ``DATETIME`` compare as text (dates in
        Asterisk's ``YYYY-MM-DD[ HH:MM:SS]`` form sort correctly as text)."""
        return self.is_int or self is RQ.FLOAT

    @property
    def min_chars(self) -> int:
        """Characters a text column needs to hold any value of this type (0: the given size)."""
        return _MIN_CHARS.get(self, 0)

    @property
    def int_range(self) -> tuple[int, int] | None:
        """Inclusive value range of an integer kind, else ``None``."""
        return _INT_RANGES.get(self)


_MIN_CHARS = {
    RQ.UINTEGER1: 3,
    RQ.INTEGER1: 4,
    RQ.UINTEGER2: 5,
    RQ.INTEGER2: 6,
    RQ.UINTEGER3: 8,
    RQ.INTEGER3: 8,
    RQ.UINTEGER4: 10,
    RQ.DATE: 10,
    RQ.INTEGER4: 11,
    RQ.UINTEGER8: 19,
    RQ.DATETIME: 19,
    RQ.INTEGER8: 20,
}
_INT_RANGES = {
    RQ.INTEGER1: (-(2**7), 2**7 - 1),
    RQ.UINTEGER1: (0, 2**8 - 1),
    RQ.INTEGER2: (-(2**15), 2**15 - 1),
    RQ.UINTEGER2: (0, 2**16 - 1),
    RQ.INTEGER3: (-(2**23), 2**23 - 1),
    RQ.UINTEGER3: (0, 2**24 - 1),
    RQ.INTEGER4: (-(2**31), 2**31 - 1),
    RQ.UINTEGER4: (0, 2**32 - 1),
    RQ.INTEGER8: (-(2**63), 2**63 - 1),
    RQ.UINTEGER8: (0, 2**64 - 1),
}


class Requirement(NamedTuple):
    """A column requirement: its ``RQ`` type and the characters a value may need."""

    type: RQ
    size: int


#: What ``Realtime.require`` accepts per column: ``("char", 45)``, ``(RQ.CHAR, 45)`` or a
#: :class:`Requirement`.
RequirementSpec = Requirement | tuple[str | RQ, int]


def parse_requirements(
    columns: Mapping[str, RequirementSpec], family: str | None = None
) -> dict[str, Requirement]:
    """Validate ``column -> (type, size)``; type names are ``RQ`` member names, any case."""
    out: dict[str, Requirement] = {}
    if not columns:
        raise QueryError("require needs at least one column", family=family)
    for column, spec in columns.items():
        check_identifier(column, family=family)
        try:
            kind, size = spec
        except (TypeError, ValueError):
            raise QueryError(
                f"requirement for {column!r} must be (type, size), got {spec!r}",
                family=family,
                field=column,
            ) from None
        if isinstance(kind, str):
            try:
                kind = RQ[kind.upper().removeprefix("RQ_")]
            except KeyError:
                names = ", ".join(m.name.lower() for m in RQ)
                raise QueryError(
                    f"unknown requirement type {kind!r} for {column!r}; use one of {names}",
                    family=family,
                    field=column,
                ) from None
        if not isinstance(kind, RQ) or not isinstance(size, int) or size < 0:
            raise QueryError(
                f"requirement for {column!r} must be (type, size >= 0), got {spec!r}",
                family=family,
                field=column,
            )
        out[column] = Requirement(kind, size)
    return out
