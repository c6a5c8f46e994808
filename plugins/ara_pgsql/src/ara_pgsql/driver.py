"""The ``pgsql`` driver: PostgreSQL through SQLAlchemy Core and psycopg 3.

Reads Asterisk's ``res_pgsql.conf`` (see :mod:`ara_pgsql.config`). Statements are the shared
ones (:mod:`ara_realtime.sql`) with PostgreSQL's spelling: ``%s`` placeholders, ``"quoted"``
identifiers, ``ESCAPE '\\'``, ``NULLS FIRST``. Each is prepared once per pooled connection.

Columns that are not text (enums such as ``yes_no_values``, booleans, numbers, timestamps)
are selected as ``::text``, so every value arrives as a string; enums and booleans are also
compared as text, so callers never cast. Text is compared and ordered in ``COLLATE "C"``
(code point order) and, with the ``^XX`` codec on, LIKE and ordering see decoded values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from ara_realtime import Capabilities
from ara_realtime.changes import ChangeFeed
from ara_realtime.driver import ConnectionDriver
from ara_realtime.sql import ColumnSQL, Dialect
from ara_realtime.sql.pool import ConnectionPool, PooledConnection
from ara_realtime.sql.schema import ColumnFacts
from ara_realtime.sql.sqla import ConnectSpec, SQLAlchemyConnection

from .changes import PgsqlChangeFeed
from .config import read_config

__all__ = ["DIALECT", "PgsqlConnection", "driver", "quote"]


def quote(name: str) -> str:
    """Quote an identifier (``"`` doubled); ``schema.table`` becomes two quoted parts."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


DIALECT = Dialect(
    quote=quote,
    placeholder="%s",
    like_escape=" ESCAPE '\\'",
    limit_one=" LIMIT 1",
    nulls_first=" NULLS FIRST",
)

#: SQLSTATE classes that are the caller's mistake: data exception, integrity constraint,
#: syntax error or access rule (unknown table or column), feature not supported.
_QUERY_CLASSES = frozenset({"22", "23", "42", "0A", "44"})

#: The server is shutting down or restarting (admin, crash, cannot connect now), or it takes
#: no writes (25006, read_only_sql_transaction: a standby, or a primary fenced read-only
#: before a switchover). The connection is no use for what comes next: it is thrown away
#: with the idle ones, and new connections look for the server that takes writes.
_GONE = frozenset({"57P01", "57P02", "57P03", "25006"})

_NOTES = {
    "change_feed": "LISTEN/NOTIFY through triggers installed by 'realtime cache install' "
    "(ara_pgsql.changes); a table without them is not watched",
    "codec": "on by default (codec = no turns it off); LIKE and ordering see decoded values",
    "text_order": 'code point order (COLLATE "C")',
    "require_create": "VARCHAR(n) where Asterisk creates CHAR(n); NUMERIC(20) for uinteger8",
}


class PgsqlConnection(SQLAlchemyConnection):
    """One PostgreSQL database: a pool of psycopg connections, table metadata cached."""

    driver: ClassVar[str] = "pgsql"
    engine_kind: ClassVar[str] = "postgresql"
    DIALECT = DIALECT
    VERSION_SQL = "SELECT 'PostgreSQL ' || current_setting('server_version')"
    CAPABILITIES = Capabilities.full(
        codec=True, require_create=True, change_feed="notify", notes=_NOTES
    )

    def __init__(
        self, database: str, settings: Mapping[str, str], config_dir: Path | None = None
    ) -> None:
        super().__init__(database, settings, config_dir)
        self.prepare: bool = self.spec.options.get("prepare", True)

    def change_feed(self) -> ChangeFeed:
        """Triggers that ``NOTIFY`` and a connection that ``LISTEN``s (:mod:`ara_pgsql.changes`)."""
        return PgsqlChangeFeed(self)

    def execute(self, cursor: Any, sql: str, params: Sequence[object]) -> None:
        cursor.execute(sql, params, prepare=self.prepare)

    def reached(self, pool: ConnectionPool, conn: PooledConnection) -> str | None:
        """The host (or socket directory) and port libpq chose from the host list."""
        info = getattr(conn.dbapi, "info", None)
        return f"{info.host}:{info.port}" if info is not None else None

    def column_sql(self, table: str, col: ColumnFacts, extra: Mapping[str, Any]) -> ColumnSQL:
        q = quote(col.name)
        if col.kind == "text":
            shown = self.decode_sql(q) if self.codec else q
            return ColumnSQL(like=shown, order=f'{shown} COLLATE "C"', decoded=self.codec)
        as_text = f"{q}::text"
        qualified = f"{quote(table)}.{q}"  # ORDER BY "port" would name the ::text output column
        if col.kind == "int":
            # compared as numeric, so an operand out of the column's range is no match, not an
            # error (such comparisons cannot use an index on the column)
            return ColumnSQL(
                select=as_text, eq=f"{q}::numeric", like=as_text, order=f"{qualified}::numeric"
            )
        if col.kind in ("float", "date", "datetime"):
            return ColumnSQL(select=as_text, like=as_text, order=qualified)
        # enums, booleans and everything else: compared and ordered as their text
        return ColumnSQL(select=as_text, eq=as_text, like=as_text, order=f'{as_text} COLLATE "C"')

    def reason(self, exc: BaseException) -> str:
        """The server's primary message and SQLSTATE (its DETAIL quotes values: left out)."""
        diag = getattr(exc, "diag", None)
        primary = getattr(diag, "message_primary", None)
        state = getattr(exc, "sqlstate", None)
        if primary:
            return f"{primary} (SQLSTATE {state})" if state else str(primary)
        return super().reason(exc)

    def is_disconnect(self, exc: BaseException) -> bool:
        state = getattr(exc, "sqlstate", None) or ""
        return state[:2] == "08" or state in _GONE

    def is_query_error(self, exc: BaseException) -> bool:
        state = getattr(exc, "sqlstate", None) or ""
        return state[:2] in _QUERY_CLASSES

    @classmethod
    def read_config(
        cls, database: str, settings: Mapping[str, str], config_dir: Path | None
    ) -> ConnectSpec:
        return read_config(database, settings, config_dir)


# -- the plugin ---------------------------------------------------------------------------

#: The plugin object the ``pgsql`` entry point names: every hook calls the connection's method.
driver = ConnectionDriver(PgsqlConnection)
