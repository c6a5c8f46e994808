"""Asterisk's own realtime tables, as its alembic scripts leave them on each DBMS the tests
run (``asterisk_schemas/<dbms>.sql``): one copy for every driver's tests (pgsql and mysql
through their DB-APIs, odbc through the three ODBC drivers)."""

from __future__ import annotations

import re
from importlib.resources import files

__all__ = ["SCHEMA_DBMS", "asterisk_schema", "asterisk_statements", "asterisk_tables"]

#: The DBMS with a schema file.
SCHEMA_DBMS = ("postgresql", "mariadb", "sqlite")


def asterisk_schema(dbms: str) -> str:
    """The SQL script creating Asterisk's tables on ``dbms`` (one of :data:`SCHEMA_DBMS`)."""
    if dbms not in SCHEMA_DBMS:
        raise ValueError(f"no Asterisk schema for {dbms!r}; known: {', '.join(SCHEMA_DBMS)}")
    return (files(__package__) / "asterisk_schemas" / f"{dbms}.sql").read_text("utf-8")


def asterisk_statements(dbms: str) -> list[str]:
    """The script's statements one by one (for DB-APIs that run one statement per call)."""
    text = re.sub(r"--[^\n]*", "", asterisk_schema(dbms))
    return [s.strip() for s in text.split(";") if s.strip()]


def asterisk_tables(dbms: str) -> list[str]:
    """The tables the script creates, in its order."""
    return re.findall(
        r"^CREATE TABLE (\w+)", asterisk_schema(dbms), flags=re.MULTILINE | re.IGNORECASE
    )
