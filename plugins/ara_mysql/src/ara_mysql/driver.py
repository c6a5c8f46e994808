"""The ``mysql`` driver: MySQL and MariaDB through SQLAlchemy Core and mysqlclient or PyMySQL.

Reads Asterisk's ``res_config_mysql.conf`` (see :mod:`ara_mysql.config`). Statements are the
shared ones (:mod:`ara_realtime.sql`) with MySQL's spelling: ``%s`` placeholders,
```quoted``` identifiers, ``ESCAPE '\\\\'`` (one backslash in MySQL's string syntax).
Connections use ``CLIENT.FOUND_ROWS``, so ``update`` counts matched rows, and ``utf8mb4``.

Exact matching on MariaDB's default collations (case-insensitive, ``PAD SPACE``): text is
compared in the column character set's ``_nopad_bin`` collation (``utf8mb4_0900_bin`` on
MySQL 8). Such a comparison cannot use the column's index, so equality is written
``col = %s AND col COLLATE x = %s``: the index finds the case-insensitive candidates, the
second term keeps the exact ones. Columns already in a binary ``NO PAD`` collation are
compared plainly. Numbers, dates and other non-text columns are selected as text.

Replication: a deadlock or a Galera certification conflict (error 1213) rolls the statement
back in full and it is run again (``conflict_retries``); a Galera node outside the primary
component (1047) refuses statements without running them, which then run once more on a new
connection, taken from another node when ``dbhost`` lists several (:mod:`ara_mysql.nodes`).
A commit that failed with its outcome unknown (1180: the node may have left the primary
component after its writeset was delivered) is never run again for a write: the call fails
with ``BackendError`` saying so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar, cast

import sqlalchemy

from ara_realtime import Capabilities
from ara_realtime.driver import ConnectionDriver
from ara_realtime.sql import ColumnSQL, Dialect
from ara_realtime.sql.base import ErrorKind
from ara_realtime.sql.pool import ConnectionPool, PooledConnection, PoolStatus
from ara_realtime.sql.schema import ColumnFacts
from ara_realtime.sql.sqla import ConnectSpec, SQLAlchemyConnection
from ara_realtime.sql.sqla.pool import Pool

from .config import CONFLICT_RETRIES, read_config
from .nodes import Node, NodePool

__all__ = ["DIALECT", "MySQLConnection", "driver", "quote"]


def quote(name: str) -> str:
    """Quote an identifier (`` ` `` doubled); ``db.table`` becomes two quoted parts."""
    return ".".join("`" + part.replace("`", "``") + "`" for part in name.split("."))


DIALECT = Dialect(
    quote=quote,
    placeholder="%s",
    like_escape=" ESCAPE '\\\\'",
    limit_one=" LIMIT 1",
    nulls_first="",  # NULL sorts first in ascending order already
)

#: Server error numbers that are the caller's mistake (unknown column or table, duplicate key,
#: value too long or of the wrong kind, constraint, syntax, collation mix).
_QUERY_ERRORS = frozenset(
    {
        1153,  # a packet bigger than max_allowed_packet (refused before sending, normally)
        1301,  # a result larger than max_allowed_packet
        1048,
        1050,
        1054,
        1059,
        1060,
        1062,
        1064,
        1074,
        1103,
        1109,
        1136,
        1146,
        1166,
        1216,
        1217,
        1253,
        1264,
        1265,
        1267,
        1271,
        1292,
        1300,
        1364,
        1366,
        1367,
        1406,
        1451,
        1452,
        1690,
        3819,
        4025,
    }
)

#: Statements the server rolled back in full for a conflicting transaction: an InnoDB
#: deadlock victim or a Galera certification failure (1213), a lock wait that ran out (1205;
#: in autocommit mode the statement is the whole transaction).
_CONFLICT_ERRORS = frozenset({1205, 1213})
#: Statements the server refused without running them, as it will on this connection until
#: it recovers: a Galera node outside the primary component or not yet synced (1047,
#: "WSREP has not yet prepared node for application use", checked before a statement runs),
#: a read-only server (1290, 1836).
_REFUSED_ERRORS = frozenset({1047, 1290, 1836})
#: A commit that failed without its outcome being known (1180, ER_ERROR_DURING_COMMIT). On
#: Galera it covers every replication failure at commit (the provider's "connection failed"
#: when the node leaves the primary component, "provider failed", a fragment it could not
#: append): the writeset may already have been delivered to the primary component, which
#: then commits it on every other node. Never run a write again after it.
_UNKNOWN_OUTCOME_ERRORS = frozenset({1180})
#: The server is shutting down (1053): the connection is as good as lost.
_LOST_ERRORS = frozenset({1053})

_NOTES = {
    "codec": "on by default (codec = no turns it off); LIKE and ordering see decoded values",
    "text_order": "code point order (the _nopad_bin collation of the column's character set)",
    "require_create": "Asterisk's mysql driver stopped creating columns in 2016; this one does",
}

_COLUMNS_SQL = (
    "SELECT COLUMN_NAME, COLLATION_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS "
    "WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s"
)


def _exact(collation: str | None) -> bool:
    """True if a collation compares code points with trailing spaces significant."""
    return collation is not None and (collation == "binary" or collation.endswith("_nopad_bin"))


class MySQLConnection(SQLAlchemyConnection):
    """One MySQL/MariaDB section (or ``read/write`` pair): pooled connections, cached metadata."""

    driver: ClassVar[str] = "mysql"
    engine_kind: ClassVar[str] = "mysql"
    DIALECT = DIALECT
    VERSION_SQL = "SELECT VERSION()"
    CAPABILITIES = Capabilities.full(codec=True, require_create=True, notes=_NOTES)

    def __init__(
        self, database: str, settings: Mapping[str, str], config_dir: Path | None = None
    ) -> None:
        super().__init__(database, settings, config_dir)
        spec = self.spec.write or self.spec  # like the codec: the section that writes
        self.conflict_retries = int(spec.options.get("conflict_retries", CONFLICT_RETRIES))

    def _pool(self, spec: ConnectSpec) -> Pool:
        """One pool, or with several ``dbhost`` servers one per node behind a ``NodePool``."""
        hosts: list[tuple[str, int]] | None = spec.options.get("nodes")
        if not hosts:
            return super()._pool(spec)
        nodes = []
        for host, port in hosts:
            args = {**spec.connect_args, "host": host, "port": port}
            node_spec = replace(spec, connect_args=args, label=f"{spec.label} node {host}:{port}")
            nodes.append(Node(f"{host}:{port}", super()._pool(node_spec)))
        # a NodePool offers what SQLAlchemyConnection uses of a Pool (the ConnectionPool
        # protocol, engine, connect, watches.bounded, timeout_error)
        return cast("Pool", NodePool(spec.label, nodes, spec.settings.pool_timeout))

    def _roles(self) -> list[tuple[str, object]]:
        """``(role, pool)``: ``("", pool)`` alone, or ``read``/``write`` of a section pair."""
        if self.writer is self.reader:
            return [("", self.reader)]
        return [("read", self.reader), ("write", self.writer)]

    def pool_status(self) -> dict[str, PoolStatus]:
        """Each pool, or each node's pool (``node 10.0.0.1:3306 (up)``) of a node list."""
        out: dict[str, PoolStatus] = {}
        for role, pool in self._roles():
            prefix = f"{role} " if role else ""
            if isinstance(pool, NodePool):
                for address, up, _, status in pool.states():
                    out[f"{prefix}node {address} ({'up' if up else 'out'})"] = status
            elif isinstance(pool, Pool):
                out[role or "pool"] = pool.status()
        return out

    def status(self) -> Mapping[str, Any]:
        answer = dict(super().status())
        out = [
            f"{prefix}{address}: {reason}"
            for role, pool in self._roles()
            if isinstance(pool, NodePool)
            for prefix in [f"{role} " if role else ""]
            for address, up, reason, _ in pool.states()
            if not up
        ]
        if out:
            answer["detail"] = f"{answer['detail']}; nodes out: {'; '.join(out)}"
        return answer

    def reached(self, pool: ConnectionPool, conn: PooledConnection) -> str | None:
        """The node that served ``conn`` (a ``dbhost`` list), or its section's server."""
        if isinstance(pool, NodePool):
            node = pool.owner(conn)
            return node.address if node is not None else None
        spec = self.spec.write if pool is self.writer and self.spec.write else self.spec
        args = spec.connect_args
        if "unix_socket" in args:
            return str(args["unix_socket"])
        host = args.get("host") or spec.url.host
        return f"{host}:{args.get('port') or spec.url.port or 3306}" if host else None

    def classify(self, exc: BaseException) -> ErrorKind | None:
        kind = super().classify(exc)
        if kind != "backend":
            return kind
        args: tuple[Any, ...] = getattr(exc, "args", ())
        code = args[0] if args else None
        if code in _CONFLICT_ERRORS:
            return "conflict"
        if code in _REFUSED_ERRORS:
            return "refused"
        if code in _UNKNOWN_OUTCOME_ERRORS:
            return "unknown"
        return "backend"

    def is_disconnect(self, exc: BaseException) -> bool:
        args: tuple[Any, ...] = getattr(exc, "args", ())
        return bool(args) and args[0] in _LOST_ERRORS

    def reflect_extra(
        self, conn: sqlalchemy.Connection, schema: str | None, table: str
    ) -> dict[str, Any]:
        rows = conn.exec_driver_sql(_COLUMNS_SQL, (schema, table)).fetchall()
        packet = conn.exec_driver_sql("SELECT @@max_allowed_packet").scalar()
        # less a margin for the packet header and the statement's own framing
        self.max_statement_bytes = int(packet) - 1024 if packet else None
        mariadb = bool(getattr(conn.dialect, "is_mariadb", False))
        return {
            name: {"collation": collation, "charset": charset, "mariadb": mariadb}
            for name, collation, charset in rows
        }

    def column_sql(self, table: str, col: ColumnFacts, extra: Mapping[str, Any]) -> ColumnSQL:
        q = quote(col.name)
        if col.kind in ("text", "enum"):
            shown = self.decode_sql(q) if self.codec else q
            if col.kind == "enum":
                shown = f"CAST({shown} AS CHAR)"  # ENUMs order by their index otherwise
            collation = extra.get("collation")
            if _exact(collation):
                return ColumnSQL(like=shown, order=shown, decoded=self.codec)
            exact = _binary_collation(extra.get("charset") or "utf8mb4", extra.get("mariadb", True))
            return ColumnSQL(
                eq=f"{q} COLLATE {exact}",
                like=f"{shown} COLLATE {exact}",
                order=f"{shown} COLLATE {exact}",
                assisted=True,
                decoded=self.codec,
            )
        return ColumnSQL(select=f"CAST({q} AS CHAR)")

    def reason(self, exc: BaseException) -> str:
        """The server's message and error number (both DB-APIs raise ``(errno, message)``)."""
        args: tuple[Any, ...] = getattr(exc, "args", ())
        if len(args) >= 2 and isinstance(args[0], int):
            return f"{args[1]} (error {args[0]})"
        return super().reason(exc)

    def is_query_error(self, exc: BaseException) -> bool:
        args: tuple[Any, ...] = getattr(exc, "args", ())
        return bool(args) and args[0] in _QUERY_ERRORS

    def socket_of(self, dbapi_connection: Any) -> int | None:
        sock = getattr(dbapi_connection, "_sock", None)  # PyMySQL has no fileno()
        if sock is not None:
            return int(sock.fileno())
        return int(dbapi_connection.fileno())  # mysqlclient

    def version_text(self, answer: str) -> str:
        return answer if "MariaDB" in answer else f"MySQL {answer}"

    def create_suffix(self) -> str:
        return " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"

    @classmethod
    def read_config(
        cls, database: str, settings: Mapping[str, str], config_dir: Path | None
    ) -> ConnectSpec:
        return read_config(database, settings, config_dir)


def _binary_collation(charset: str, mariadb: bool) -> str:
    if mariadb:
        return f"{charset}_nopad_bin"
    return "utf8mb4_0900_bin" if charset == "utf8mb4" else f"{charset}_bin"


# -- the plugin ---------------------------------------------------------------------------

#: The plugin object the ``mysql`` entry point names: every hook calls the connection's method.
driver = ConnectionDriver(MySQLConnection)
