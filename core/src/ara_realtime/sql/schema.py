"""Column facts every SQL driver reads, ``require``'s checks, and Asterisk's DDL types per engine.

A driver turns its engine's catalogue (SQLAlchemy reflection, ``PRAGMA table_info``, ODBC's
``SQLColumns``) into :class:`ColumnFacts`; everything after that is shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..datatypes import RQ, Requirement

__all__ = [
    "ENGINES",
    "ColumnFacts",
    "Kind",
    "char_length",
    "check_requirement",
    "ddl_type",
    "int_range",
    "sqlite_column_facts",
]

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


def int_range(bits: int, unsigned: bool) -> tuple[int, int]:
    """The inclusive range of a ``bits``-wide integer column."""
    if unsigned:
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def sqlite_column_facts(name: str, decl: str, nullable: bool) -> ColumnFacts:
    """A column as SQLite's type affinity rules (section 3.1 of its datatype docs) make it
    (``decl`` upper-cased); the sqlite3 driver and ODBC's SQLite driver both use it."""
    kind: Kind
    rng = None
    if "INT" in decl:
        kind, rng = "int", int_range(64, unsigned=False)
    elif "CHAR" in decl or "CLOB" in decl or "TEXT" in decl or not decl:
        kind = "text"  # a column without a type holds anything: text for our purposes
    elif "BLOB" in decl:
        kind = "other"
    elif "REAL" in decl or "FLOA" in decl or "DOUB" in decl:
        kind = "float"
    elif "DATE" in decl or "TIME" in decl:
        kind = "datetime" if "TIME" in decl else "date"
    else:
        kind = "float"  # NUMERIC affinity
    # SQLite enforces no length: text columns hold any size, whatever the declaration says
    return ColumnFacts(name, kind, decl or "(none)", nullable, None, rng)


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
#: SQLite: INTEGER affinity holds signed 64-bit integers, so uinteger8 stays text (as
#: Asterisk's sqlite3 driver creates it); text columns have no length.
_SQLITE_TYPES = {
    **{rq: "INTEGER" for rq in RQ if rq.is_int},
    RQ.UINTEGER8: "TEXT",
    RQ.FLOAT: "REAL",
    RQ.DATE: "TEXT",
    RQ.DATETIME: "TEXT",
}
#: Microsoft SQL Server (and Sybase) through ODBC: no unsigned types, so each takes the next
#: wider signed one.
_MSSQL_TYPES = {
    RQ.INTEGER1: "SMALLINT",
    RQ.UINTEGER1: "TINYINT",
    RQ.INTEGER2: "SMALLINT",
    RQ.UINTEGER2: "INT",
    RQ.INTEGER3: "INT",
    RQ.UINTEGER3: "INT",
    RQ.INTEGER4: "INT",
    RQ.UINTEGER4: "BIGINT",
    RQ.INTEGER8: "BIGINT",
    RQ.UINTEGER8: "NUMERIC(20)",
    RQ.FLOAT: "FLOAT",
    RQ.DATE: "DATE",
    RQ.DATETIME: "DATETIME",
}
_TYPES = {
    "postgresql": _PG_TYPES,
    "mysql": _MYSQL_TYPES,
    "sqlite": _SQLITE_TYPES,
    "mssql": _MSSQL_TYPES,
}
#: The engines :func:`ddl_type` knows.
ENGINES: tuple[str, ...] = tuple(_TYPES)


def ddl_type(engine: str, req: Requirement, mode: str, codec: bool = False) -> str:
    """The column type ``require`` creates for ``req`` on ``engine`` (one of :data:`ENGINES`).

    ``createchar`` makes every column text; ``createclose`` picks the closest type. Text is
    ``VARCHAR(n)`` (Asterisk's pgsql uses ``CHAR(n)``, which pads values with spaces), n from
    :func:`char_length`; SQLite's is ``TEXT`` (it has no lengths), as Asterisk's sqlite3 makes.
    """
    if engine == "sqlite":
        return "TEXT" if mode == "createchar" else _SQLITE_TYPES.get(req.type, "TEXT")
    if mode == "createchar" or req.type is RQ.CHAR:
        return f"VARCHAR({char_length(req.size, codec)})"
    return _TYPES[engine][req.type]
