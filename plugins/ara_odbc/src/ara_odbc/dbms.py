"""What sits behind a DSN, from ``SQLGetInfo``, and how statements are spelled for it.

:func:`detect` asks the first connection of a class for ``SQL_DBMS_NAME``, the identifier quote
character (``SQL_IDENTIFIER_QUOTE_CHAR``), LIKE escape support (``SQL_LIKE_ESCAPE_CLAUSE``), the
catalog search-pattern escape and the driver's name, plus the one or two session facts a kind
needs (PostgreSQL: the current schema; MySQL/MariaDB: the current database and whether
backslashes escape in string literals). :meth:`Dbms.dialect` turns that into the statement
spelling:

=========== ============ ======================= ========== ==================
kind        quoting      LIKE escape clause       one row    NULLs first
=========== ============ ======================= ========== ==================
postgresql  ``"x"``      ``ESCAPE '\\'``           ``LIMIT 1`` ``NULLS FIRST``
mysql       ```x```      ``ESCAPE '\\\\'`` [1]_     ``LIMIT 1`` (default)
sqlite      ``"x"``      ``ESCAPE '\\'``           ``LIMIT 1`` (default)
mssql       ``[x]``      ``ESCAPE '\\'``           ``TOP 1``   (default)
sybase      ``[x]``      ``ESCAPE '\\'``           ``TOP 1``   (default)
generic     the DBMS's   ``ESCAPE '\\'`` [2]_       (fetch one) (the DBMS's)
=========== ============ ======================= ========== ==================

.. [1] one backslash in MySQL's string syntax; ``ESCAPE '\\'`` when the session's ``sql_mode``
   has ``NO_BACKSLASH_ESCAPES``.
.. [2] a DBMS whose driver reports no LIKE escape clause gets none (``\\`` then only escapes
   where the DBMS's LIKE does so natively).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ara_realtime.sql import Dialect

__all__ = ["KINDS", "Dbms", "Kind", "detect", "kind_of"]

#: The kinds of DBMS the driver spells statements for.
Kind = Literal["postgresql", "mysql", "sqlite", "mssql", "sybase", "generic"]
KINDS: tuple[Kind, ...] = ("postgresql", "mysql", "sqlite", "mssql", "sybase", "generic")

# pyodbc's SQLGetInfo codes (the ODBC header's values; pyodbc exports the same numbers)
SQL_DRIVER_NAME = 6
SQL_SEARCH_PATTERN_ESCAPE = 14
SQL_DBMS_NAME = 17
SQL_DBMS_VER = 18
SQL_IDENTIFIER_QUOTE_CHAR = 29
SQL_LIKE_ESCAPE_CLAUSE = 113


def kind_of(dbms_name: str) -> Kind:
    """The kind of DBMS ``SQL_DBMS_NAME`` names."""
    name = dbms_name.strip().lower()
    if name.startswith("postgres"):
        return "postgresql"
    if name.startswith(("mysql", "mariadb")):
        return "mysql"
    if name.startswith("sqlite"):
        return "sqlite"
    if "microsoft sql server" in name or name.startswith("microsoft sql azure"):
        return "mssql"
    if name in ("sql server", "adaptive server enterprise") or "sybase" in name:
        return "sybase"  # FreeTDS reports the server's product name; ASE's is either
    return "generic"


def brackets(name: str) -> str:
    """``[name]`` (``]`` doubled); ``schema.table`` becomes two quoted parts."""
    return ".".join("[" + part.replace("]", "]]") + "]" for part in name.split("."))


def quoter(char: str) -> Callable[[str], str]:
    """Quote with ``char`` (doubled inside); ``schema.table`` becomes two quoted parts."""

    def quote(name: str) -> str:
        return ".".join(char + part.replace(char, char * 2) + char for part in name.split("."))

    return quote


@dataclass(frozen=True)
class Dbms:
    """The DBMS behind a class's DSN, as its first connection reported it."""

    kind: Kind
    #: ``SQL_DBMS_NAME`` and ``SQL_DBMS_VER``.
    name: str
    version: str = ""
    #: ``SQL_DRIVER_NAME`` (the driver's shared object).
    driver: str = ""
    #: ``SQL_IDENTIFIER_QUOTE_CHAR`` (``" "``: quoting not supported).
    quote_char: str = '"'
    #: ``SQL_LIKE_ESCAPE_CLAUSE``.
    like_escape_clause: bool = True
    #: ``SQL_SEARCH_PATTERN_ESCAPE``: escapes ``_``/``%`` in catalog function arguments.
    search_escape: str = "\\"
    #: MySQL/MariaDB: backslashes escape in string literals (no ``NO_BACKSLASH_ESCAPES``).
    backslash_literals: bool = False
    #: MariaDB rather than MySQL.
    mariadb: bool = False
    #: The schema (PostgreSQL) or database (MySQL) unqualified table names are found in.
    schema: str | None = None
    #: MySQL/MariaDB: the largest statement the server takes (``max_allowed_packet``).
    max_packet: int | None = None

    @property
    def engine(self) -> str:
        """The engine whose column types ``require`` creates (``ara_realtime.sql.schema``)."""
        if self.kind in ("mssql", "sybase"):
            return "mssql"
        # a DBMS not known here gets the SQL standard's types, which PostgreSQL's list is
        return "postgresql" if self.kind == "generic" else self.kind

    @property
    def tsql(self) -> bool:
        """Transact-SQL (SQL Server, Sybase): ``[]``, ``TOP 1``, ``LEN``, ``+``, ``ADD``."""
        return self.kind in ("mssql", "sybase")

    def quote(self) -> Callable[[str], str]:
        if self.tsql:
            return brackets
        if self.kind == "mysql":
            return quoter("`")
        char = self.quote_char.strip() or '"'
        return quoter(char)

    def dialect(self) -> Dialect:
        """How statements are spelled for this DBMS."""
        one_backslash = "'\\\\'" if self.backslash_literals else "'\\'"
        escape = f" ESCAPE {one_backslash}"
        if self.kind == "generic" and not self.like_escape_clause:
            escape = ""
        return Dialect(
            quote=self.quote(),
            placeholder="?",
            like_escape=escape,
            limit_one=" LIMIT 1" if self.kind in ("postgresql", "mysql", "sqlite") else "",
            top_one="TOP 1 " if self.tsql else "",
            nulls_first=" NULLS FIRST" if self.kind == "postgresql" else "",
        )

    def describe(self) -> str:
        """One line for logs and ``realtime status``."""
        return f"{self.name} {self.version} through {self.driver} ({self.kind})"


def _info(conn: Any, code: int, default: Any) -> Any:
    try:
        return conn.getinfo(code)
    except Exception:  # a driver that does not answer one SQLGetInfo type
        return default


def _scalar(conn: Any, sql: str) -> Any:
    cur = conn.cursor()
    try:
        cur.execute(sql)
        row = cur.fetchone()
        return row[0] if row else None
    finally:
        cur.close()


def detect(conn: Any) -> Dbms:
    """Ask an open pyodbc connection what it is connected to."""
    name = str(_info(conn, SQL_DBMS_NAME, "") or "")
    kind = kind_of(name)
    like = _info(conn, SQL_LIKE_ESCAPE_CLAUSE, True)
    facts: dict[str, Any] = {
        "kind": kind,
        "name": name,
        "version": str(_info(conn, SQL_DBMS_VER, "") or ""),
        "driver": str(_info(conn, SQL_DRIVER_NAME, "") or ""),
        "quote_char": str(_info(conn, SQL_IDENTIFIER_QUOTE_CHAR, '"') or " "),
        "like_escape_clause": like in (True, "Y", "y", 1),
        "search_escape": str(_info(conn, SQL_SEARCH_PATTERN_ESCAPE, "\\") or ""),
    }
    if kind == "postgresql":
        facts["schema"] = _scalar(conn, "SELECT current_schema()")
    elif kind == "mysql":
        facts["mariadb"] = "mariadb" in name.lower()
        facts["schema"] = _scalar(conn, "SELECT DATABASE()")
        mode = str(_scalar(conn, "SELECT @@SESSION.sql_mode") or "")
        facts["backslash_literals"] = "NO_BACKSLASH_ESCAPES" not in mode.upper()
        packet = _scalar(conn, "SELECT @@max_allowed_packet")
        facts["max_packet"] = int(packet) if packet is not None else None
    return Dbms(**facts)
