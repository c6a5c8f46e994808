"""Columns from ODBC's catalog (``SQLColumns``) and the SQL that selects and compares each one.

:func:`column_facts` turns a row of ``cursor.columns()`` into
:class:`~ara_realtime.sql.schema.ColumnFacts` from the ODBC SQL type code, the DBMS's type name
and the column size. :func:`column_sql` reuses, per DBMS, what the native drivers do to get
exact, case- and space-sensitive comparisons in code point order and every value as text:

* PostgreSQL (as ``ara-pgsql``): text in ``COLLATE "C"``; every other column selected as
  ``::text``; integers compared as ``numeric``; enums and booleans as their text.
* MySQL/MariaDB (as ``ara-mysql``): text compared in the character set's ``_nopad_bin``
  collation (``utf8mb4_0900_bin`` on MySQL 8) behind a plain, index-served equality term; other
  columns ``CAST(... AS CHAR)``.
* SQLite (as the core's ``sqlite3``): every column ``CAST(... AS TEXT)``.
* SQL Server: text in ``Latin1_General_BIN2`` (code point order); trailing spaces are handled
  by the T-SQL statements (:mod:`ara_odbc.tsql`); other columns as ``NVARCHAR``. Sybase ASE has
  no ``COLLATE``: its comparisons follow the server's sort order.
* Any other DBMS: non-text columns ``CAST(... AS VARCHAR(64))`` (standard SQL).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ara_realtime.sql import ColumnSQL
from ara_realtime.sql.schema import ColumnFacts, Kind, int_range, sqlite_column_facts

from .dbms import Dbms

__all__ = ["column_facts", "column_sql", "static_select"]

# ODBC SQL type codes (sql.h / sqlext.h)
_TEXT_TYPES = {1, 12, -1, -8, -9, -10}  # CHAR, VARCHAR, LONGVARCHAR, WCHAR, WVARCHAR, WLONGVARCHAR
_LONG_TEXT = {-1, -10}
_INT_BITS = {-6: 8, 5: 16, 4: 32, -5: 64}  # TINYINT, SMALLINT, INTEGER, BIGINT
_EXACT = {2, 3}  # NUMERIC, DECIMAL
_FLOATS = {6, 7, 8}  # FLOAT, REAL, DOUBLE
_DATES = {9, 91}  # DATE, TYPE_DATE
_TIMESTAMPS = {11, 93}  # TIMESTAMP, TYPE_TIMESTAMP
#: PostgreSQL type names that are text (psqlODBC reports enums as varchar of their own name).
_PG_TEXT = {"varchar", "text", "bpchar", "char", "name", "citext", "character varying"}


def column_facts(row: Sequence[Any], dbms: Dbms) -> ColumnFacts:
    """One ``SQLColumns`` row (``cursor.columns()``) as column facts.

    Columns 4-7 and 11 of the row: name, SQL type code, type name, size, nullable;
    column 9 is the decimal digits of an exact numeric type.
    """
    name = str(row[3])
    sql_type = int(row[4])
    type_name = str(row[5] or "")
    size = row[6]
    digits = row[8]
    nullable = row[10] != 0  # SQL_NO_NULLS is 0; SQL_NULLABLE_UNKNOWN counts as nullable
    if dbms.kind == "sqlite":
        return sqlite_column_facts(name, type_name.upper(), nullable)
    upper = type_name.upper()
    kind: Kind
    length: int | None = None
    rng: tuple[int, int] | None = None
    if sql_type in _TEXT_TYPES:
        if dbms.kind == "postgresql" and type_name.lower() not in _PG_TEXT:
            kind = "enum"  # a user-defined enum type, reported as varchar
        elif dbms.kind == "mysql" and upper in ("ENUM", "SET"):
            kind = "enum"
        else:
            kind = "text"
            if sql_type not in _LONG_TEXT and type_name.lower() != "text" and size:
                length = int(size)
    elif sql_type in _INT_BITS or (sql_type in _EXACT and digits == 0 and size):
        kind = "int"
        if sql_type in _INT_BITS:
            bits = 24 if "MEDIUMINT" in upper else _INT_BITS[sql_type]
            rng = int_range(bits, "UNSIGNED" in upper or (dbms.tsql and sql_type == -6))
        else:
            top = 10 ** int(size) - 1
            rng = (-top, top)
    elif sql_type in _EXACT or sql_type in _FLOATS:
        kind = "float"
    elif sql_type in _DATES:
        kind = "date"
    elif sql_type in _TIMESTAMPS:
        kind = "datetime"
    else:
        kind = "other"  # booleans (BIT, or psqlODBC's bool as varchar), times, binaries
    if dbms.kind == "postgresql" and type_name.lower() == "bool":
        kind = "other"
    return ColumnFacts(name, kind, type_name or str(sql_type), nullable, length, rng)


def _exact_collation(collation: str | None) -> bool:
    return collation is not None and (collation == "binary" or collation.endswith("_nopad_bin"))


def _mysql_binary(charset: str, mariadb: bool) -> str:
    if mariadb:
        return f"{charset}_nopad_bin"
    return "utf8mb4_0900_bin" if charset == "utf8mb4" else f"{charset}_bin"


def column_sql(
    dbms: Dbms,
    table: str,
    col: ColumnFacts,
    extra: Mapping[str, Any],
    *,
    codec: bool,
    quote: Callable[[str], str],
    decode: Callable[[str], str],
) -> ColumnSQL:
    """How ``col`` of ``table`` is selected and compared on ``dbms``."""
    q = quote(col.name)
    text = col.kind == "text"
    shown = decode(q) if codec and col.kind in ("text", "enum") else q
    kind = dbms.kind
    if kind == "postgresql":
        if text:
            return ColumnSQL(like=shown, order=f'{shown} COLLATE "C"', decoded=codec)
        as_text = f"{q}::text"
        qualified = f"{quote(table)}.{q}"  # ORDER BY "port" would name the ::text output column
        if col.kind == "int":
            return ColumnSQL(
                select=as_text, eq=f"{q}::numeric", like=as_text, order=f"{qualified}::numeric"
            )
        if col.kind in ("float", "date", "datetime"):
            return ColumnSQL(select=as_text, like=as_text, order=qualified)
        return ColumnSQL(select=as_text, eq=as_text, like=as_text, order=f'{as_text} COLLATE "C"')
    if kind == "mysql":
        if col.kind in ("text", "enum"):
            if col.kind == "enum":
                shown = f"CAST({shown} AS CHAR)"  # ENUMs order by their index otherwise
            if _exact_collation(extra.get("collation")):
                return ColumnSQL(like=shown, order=shown, decoded=codec)
            exact = _mysql_binary(extra.get("charset") or "utf8mb4", dbms.mariadb)
            return ColumnSQL(
                eq=f"{q} COLLATE {exact}",
                like=f"{shown} COLLATE {exact}",
                order=f"{shown} COLLATE {exact}",
                assisted=True,
                decoded=codec,
            )
        return ColumnSQL(select=f"CAST({q} AS CHAR)")
    if kind == "sqlite":
        # SQLite hands back numbers (or bytes) as stored, even from text columns
        cast = f"CAST({q} AS TEXT)"
        if text:
            return ColumnSQL(select=cast, like=shown, order=shown, decoded=codec)
        return ColumnSQL(select=cast)
    if dbms.tsql:
        if text:
            if kind == "mssql":
                binary = "COLLATE Latin1_General_BIN2"
                return ColumnSQL(
                    eq=f"{q} {binary}",
                    like=f"{shown} {binary}",
                    order=f"{shown} {binary}",
                    decoded=codec,
                )
            return ColumnSQL(like=shown, order=shown, decoded=codec)
        if col.kind in ("date", "datetime") and kind == "mssql":
            return ColumnSQL(select=f"CONVERT(NVARCHAR(30), {q}, 120)")
        return ColumnSQL(select=f"CAST({q} AS NVARCHAR(64))")
    if text:
        return ColumnSQL(like=shown, order=shown, decoded=codec)
    return ColumnSQL(select=f"CAST({q} AS VARCHAR(64))")


def static_select(
    dbms: Dbms, quote: Callable[[str], str], decode: Callable[[str], str] | None
) -> str:
    """The static query's five columns: texts (NULL as ``''``), then metrics (NULL as 0)."""
    texts = []
    for c in ("category", "var_name", "var_val"):
        expr = quote(c)
        if dbms.kind == "sqlite":
            expr = f"CAST({expr} AS TEXT)"  # a number stored in a text column stays a number
        texts.append(f"COALESCE({decode(expr) if decode else expr}, '')")
    metrics = [f"COALESCE({quote(c)}, 0)" for c in ("cat_metric", "var_metric")]
    if dbms.kind == "sqlite":
        metrics = [f"CAST({m} AS INTEGER)" for m in metrics]
    return ", ".join([*texts, *metrics])
