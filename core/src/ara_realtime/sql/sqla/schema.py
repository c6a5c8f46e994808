"""Column facts from SQLAlchemy reflection, ``require`` checks and Asterisk's DDL type mapping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import types as sqltypes

from ...datatypes import RQ, Requirement

__all__ = ["ColumnFacts", "Kind", "char_length", "check_requirement", "column_facts", "ddl_type"]

#: What a column holds, as far as ``require`` and comparisons care.
Kind = Literal["text", "enum", "int", "float", "date", "datetime", "other"]


@dataclass(frozen=True)
class ColumnFacts:
    """One reflected column."""

    name: str
    kind: Kind
    #: The type as the server spells it (for messages).
    type_name: str
    nullable: bool = True
    #: Characters a text column holds (``None``: unlimited).
    length: int | None = None
    #: Inclusive range of an integer column.
    int_range: tuple[int, int] | None = None

    @property
    def numeric(self) -> bool:
        """Compared and ordered as a number."""
        return self.kind in ("int", "float")


def _int_range(type_: Any) -> tuple[int, int]:
    name = type(type_).__name__.upper()
    if "TINY" in name:
        bits = 8
    elif "SMALL" in name:
        bits = 16
    elif "MEDIUM" in name:
        bits = 24
    elif "BIG" in name:
        bits = 64
    else:
        bits = 32
    if getattr(type_, "unsigned", False):
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def column_facts(name: str, type_: Any, nullable: bool, dialect: Any = None) -> ColumnFacts:
    """Classify a column reflected by SQLAlchemy (``Inspector.get_columns``)."""
    try:
        type_name = str(type_.compile(dialect=dialect))
    except Exception:
        type_name = type(type_).__name__
    kind: Kind
    length = None
    rng = None
    if isinstance(type_, sqltypes.Enum):
        kind = "enum"
    elif isinstance(type_, sqltypes.String):
        kind = "text"
        length = getattr(type_, "length", None)
    elif isinstance(type_, sqltypes.Boolean):
        kind = "other"
    elif isinstance(type_, sqltypes.Integer):
        kind = "int"
        rng = _int_range(type_)
    elif isinstance(type_, sqltypes.Numeric):
        kind = "float"
    elif isinstance(type_, sqltypes.DateTime):
        kind = "datetime"
    elif isinstance(type_, sqltypes.Date):
        kind = "date"
    else:
        kind = "other"
    return ColumnFacts(name, kind, type_name, nullable, length, rng)


def check_requirement(col: ColumnFacts, req: Requirement) -> str | None:
    """``None`` if ``col`` can hold what ``req`` describes, else why not (Asterisk's rules)."""
    rq = req.type
    if col.kind == "text":
        if col.length is not None and req.size > col.length:
            return f"should be at least {req.size} long, but is only {col.length} long"
        return None
    if col.kind == "int":
        rng = rq.int_range
        if rng is None:
            return (
                f"is of the incorrect type: need {rq.name.lower()}({req.size}), saw {col.type_name}"
            )
        assert col.int_range is not None
        if rng[0] < col.int_range[0] or rng[1] > col.int_range[1]:
            return f"may not be large enough for {rq.name.lower()} (it is {col.type_name})"
        return None
    if col.kind == "float":
        if not rq.is_int and rq is not RQ.FLOAT:
            return f"cannot be a {col.type_name} (need {rq.name.lower()})"
        return None
    if col.kind == "datetime":
        return None if rq in (RQ.DATE, RQ.DATETIME) else f"cannot be a {col.type_name}"
    if col.kind == "date":
        return None if rq is RQ.DATE else f"cannot be a {col.type_name}"
    return f"has a possibly unsupported type {col.type_name!r}"


def char_length(size: int, codec: bool = False) -> int:
    """The text length ``require`` creates for a requirement of ``size`` characters.

    Asterisk's pgsql rule (twice the size below 15, else one and a half times it capped at
    255), never shorter than ``size``; with the ``^XX`` codec, room for every character to be
    stored as three (``;`` -> ``^3B``).
    """
    base = max(size * 2, 1) if size < 15 else max(size, min(size * 3 // 2, 255))
    return max(base, size * 3) if codec else base


#: Integer types per ``RQ`` for each engine; ``None`` means "use the text rule".
_PG_TYPES = {
    RQ.INTEGER1: "SMALLINT",
    RQ.UINTEGER1: "SMALLINT",
    RQ.INTEGER2: "SMALLINT",
    RQ.UINTEGER2: "INTEGER",
    RQ.INTEGER3: "INTEGER",
    RQ.UINTEGER3: "INTEGER",
    RQ.INTEGER4: "INTEGER",
    RQ.UINTEGER4: "BIGINT",
    RQ.INTEGER8: "BIGINT",
    RQ.UINTEGER8: "NUMERIC(20)",
    RQ.FLOAT: "DOUBLE PRECISION",
    RQ.DATE: "DATE",
    RQ.DATETIME: "TIMESTAMP",
}
_MYSQL_TYPES = {
    RQ.INTEGER1: "TINYINT",
    RQ.UINTEGER1: "TINYINT UNSIGNED",
    RQ.INTEGER2: "SMALLINT",
    RQ.UINTEGER2: "SMALLINT UNSIGNED",
    RQ.INTEGER3: "MEDIUMINT",
    RQ.UINTEGER3: "MEDIUMINT UNSIGNED",
    RQ.INTEGER4: "INT",
    RQ.UINTEGER4: "INT UNSIGNED",
    RQ.INTEGER8: "BIGINT",
    RQ.UINTEGER8: "BIGINT UNSIGNED",
    RQ.FLOAT: "DOUBLE",
    RQ.DATE: "DATE",
    RQ.DATETIME: "DATETIME",
}
_TYPES = {"postgresql": _PG_TYPES, "mysql": _MYSQL_TYPES}


def ddl_type(engine: str, req: Requirement, mode: str, codec: bool = False) -> str:
    """The column type ``require`` creates for ``req`` (``engine``: ``postgresql``/``mysql``).

    ``createchar`` makes every column text; ``createclose`` picks the closest type. Text is
    ``VARCHAR(n)`` (Asterisk's pgsql uses ``CHAR(n)``, which pads values with spaces), n from
    :func:`char_length`.
    """
    if mode == "createchar" or req.type is RQ.CHAR:
        return f"VARCHAR({char_length(req.size, codec)})"
    return _TYPES[engine][req.type]
