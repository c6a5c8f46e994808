"""The ``odbc`` driver: any DBMS behind a unixODBC DSN, through pyodbc.

Reads Asterisk's ``res_odbc.conf`` (a class per ``extconfig.conf`` database) and
``res_config_odbc.conf`` (:mod:`ara_odbc.config`). Connections come from a bounded pool per class
(:mod:`ara_odbc.pool`). The first connection tells which DBMS sits behind the DSN
(:mod:`ara_odbc.dbms`, through ``SQLGetInfo``); statements are then the shared ones
(:mod:`ara_realtime.sql`) spelled for it: ``?`` parameters, its identifier quoting, a LIKE escape
clause, its way of asking for one row. Table metadata comes from ``SQLColumns``
(:mod:`ara_odbc.columns`), cached until ``unload`` or ``require``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from ara_realtime import Capabilities
from ara_realtime.conditions import Condition, check_identifier
from ara_realtime.datatypes import Requirement, StaticTuple
from ara_realtime.driver import ConnectionDriver
from ara_realtime.errors import BackendError, ConfigError, QueryError
from ara_realtime.sql import ColumnSQL, DBAPIConnection, Dialect, Statements, TableInfo
from ara_realtime.sql.base import ONE, ROWCOUNT, ErrorKind
from ara_realtime.sql.deadline import NO_WATCH, Deadline, watchdog
from ara_realtime.sql.messages import scrub
from ara_realtime.sql.pool import PoolStatus
from ara_realtime.sql.schema import ColumnFacts

from . import columns, errors
from .config import ClassSettings, connection_string, describe_dsn, read_config
from .dbms import SQL_DBMS_NAME, SQL_DRIVER_NAME, Dbms, detect, kind_of
from .pool import Conn, OdbcPool
from .sockets import client_port, socket_fd
from .tsql import TsqlStatements

__all__ = ["OdbcConnection", "driver", "prepare", "pyodbc_module"]

log = logging.getLogger(__name__)

_NOTES = {
    "codec": "on by default (codec = no turns it off); LIKE and ordering see decoded values",
    "text_order": 'code point order, spelled per DBMS (PostgreSQL COLLATE "C", MariaDB '
    "_nopad_bin, SQLite BINARY, SQL Server Latin1_General_BIN2)",
    "require_create": "Asterisk's odbc driver never creates; the create modes do here",
}
_SQLITE_NOTES = {
    **_NOTES,
    "uint64_order": "SQLite integers are signed 64-bit: uinteger8 columns are TEXT (as "
    "Asterisk creates them), exact up to 2**64-1 but compared and sorted as text",
}
_SYBASE_NOTES = {
    **_NOTES,
    "case_insensitive": "Sybase ASE has no COLLATE: comparisons follow the server's sort order",
    "text_order": "the server's sort order",
}

_ISOLATION = {  # SQL_TXN_* values of SQL_ATTR_TXN_ISOLATION (108)
    "read_uncommitted": 1,
    "read_committed": 2,
    "repeatable_read": 4,
    "serializable": 8,
}
_SQL_ATTR_TXN_ISOLATION = 108
#: MySQL error numbers Connector/ODBC may report as a warning of a prepared statement that
#: wrote nothing: data truncated, incorrect value, out of range, too long, NULL, bad date.
_MYSQL_DATA_ERRORS = (1265, 1366, 1264, 1406, 1048, 1292)

_pyodbc_lock = threading.Lock()
_pyodbc: Any = None


def pyodbc_module() -> Any:
    """pyodbc, with its driver-manager pooling off (this driver pools itself).

    ``pyodbc.pooling`` must be set before the process's first ODBC connection: a connection
    returned to unixODBC's pool could be handed out again after this driver threw it away.
    """
    global _pyodbc  # noqa: PLW0603  (one module, imported once)
    if _pyodbc is None:
        with _pyodbc_lock:
            if _pyodbc is None:
                try:
                    import pyodbc  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415
                except ImportError as exc:
                    raise ConfigError(
                        f"the odbc driver needs pyodbc and unixODBC's libodbc (Debian: apt-get "
                        f"install unixodbc): {exc}"
                    ) from None
                pyodbc.pooling = False
                _pyodbc = pyodbc
    return _pyodbc


def prepare(conn: Any, pyodbc: Any) -> None:
    """Set up a new pyodbc connection for the DBMS and driver it reached.

    * psqlODBC's ANSI driver takes no wide-character parameters: text goes as UTF-8.
    * MariaDB Connector/ODBC and the SQLite3 ODBC driver size and convert wide (UTF-16)
      buffers per UCS-2 character, which truncates or garbles characters beyond U+FFFF: text
      goes and comes as UTF-8 there too.
    * SQLite's LIKE ignores ASCII case unless told otherwise (``case_sensitive_like``).
    """
    driver_name = str(conn.getinfo(SQL_DRIVER_NAME) or "").lower()
    kind = kind_of(str(conn.getinfo(SQL_DBMS_NAME) or ""))
    if driver_name.startswith("psqlodbca") or kind in ("mysql", "sqlite"):
        conn.setencoding(encoding="utf-8")
        conn.setdecoding(pyodbc.SQL_CHAR, encoding="utf-8")
        conn.setdecoding(pyodbc.SQL_WCHAR, encoding="utf-8", ctype=pyodbc.SQL_CHAR)
    if kind == "sqlite":
        cur = conn.cursor()
        cur.execute("PRAGMA case_sensitive_like = ON")
        cur.close()


class OdbcConnection(DBAPIConnection):
    """One ``res_odbc.conf`` class: a bounded pool of pyodbc connections, metadata cached."""

    driver: ClassVar[str] = "odbc"
    CAPABILITIES = Capabilities.full(codec=True, require_create=True, notes=_NOTES)

    def __init__(
        self, database: str, settings: Mapping[str, str], config_dir: Path | None = None
    ) -> None:
        self.settings: ClassSettings = read_config(database, settings, config_dir)
        s = self.settings
        self._pyodbc = pyodbc_module()
        self._conn_strs = [connection_string(s, dsn=dsn) for dsn in s.dsns]
        self._extra: dict[str, str] = {}  # connection-string keys added once the DBMS is known
        self._dbms: Dbms | None = None
        self._dbms_lock = threading.Lock()
        pool = OdbcPool(
            self._open,
            s.label,
            targets=[describe_dsn(dsn) for dsn in s.dsns],
            max_connections=s.max_connections,
            cache_size=s.cache_size,
            lifo=s.lifo,
            timeout=s.pool_timeout,
            connect_timeout=s.connect_timeout,
            negative_cache=s.negative_connection_cache,
            sanitysql=s.sanitysql,
            ping_after=s.pool_pre_ping,
            error=lambda exc: scrub(errors.reason(exc)),  # one line, no values
            watch_of=self._watch_of,
        )
        # the spelling is known after the first connection (_ensure_dbms); until then nothing
        # builds statements: every operation reads the table's metadata first
        super().__init__(
            database,
            s.label,
            dialect=Dialect(quote=lambda name: name),
            codec=s.codec,
            mode=s.requirements,
            reader=pool,
        )
        self.pool = pool
        # statements run on the cursor directly unless slow ones are to be logged
        self._plain_execute = not s.logging
        if s.pre_connect:
            try:
                self.dbms  # noqa: B018  (connects and asks the DBMS)
            except BackendError as exc:
                log.warning("%s: pre-connect failed: %s", s.label, exc)

    def __repr__(self) -> str:
        return f"<OdbcConnection {self.label}>"

    # -- connections ------------------------------------------------------------------------

    def _open(self, target: int, login_timeout: int) -> Any:
        """One pyodbc connection to DSN number ``target``, set up for this class (runs in the
        pool's worker thread)."""
        conn = self._pyodbc.connect(
            ";".join([self._conn_strs[target], *(f"{k}={v}" for k, v in self._extra.items())]),
            autocommit=True,
            timeout=login_timeout,
        )
        try:
            self._setup(conn)
            known = self._dbms
            if known is not None and len(self._conn_strs) > 1:
                kind = kind_of(str(conn.getinfo(SQL_DBMS_NAME) or ""))
                if kind != known.kind:  # the statements are spelled for the first one's DBMS
                    raise _OtherDbms(
                        f"{describe_dsn(self.settings.dsns[target])} reaches a {kind} DBMS, "
                        f"the class's first connection reached {known.kind}: a class's DSNs "
                        "must all reach the same kind of DBMS"
                    )
        except Exception:
            conn.close()
            raise
        return conn

    def _setup(self, conn: Any) -> None:
        prepare(conn, self._pyodbc)
        if self.settings.isolation is not None:
            conn.set_attr(_SQL_ATTR_TXN_ISOLATION, _ISOLATION[self.settings.isolation])

    def _watch_of(self, fairy: Any) -> Deadline:
        """The watch of a pooled connection (made once per DB-API connection): its socket,
        found through the port the server sees, cut by the watchdog after ``query_timeout``."""
        watch: Deadline | None = fairy.info.get("ara_watch")
        if watch is None:
            conn = fairy.dbapi_connection
            kind = kind_of(str(conn.getinfo(SQL_DBMS_NAME) or ""))
            if kind == "sqlite":  # a local file: bounded by the driver's busy timeout
                watch = NO_WATCH
            else:
                try:
                    port = client_port(conn, kind)
                except self._pyodbc.Error:
                    port = None
                fd = socket_fd(port) if port is not None else None
                if fd is None and kind in ("postgresql", "mysql"):
                    log.info("%s: no socket found to cut after query_timeout", self.label)
                watch = watchdog().watch(fd, self.settings.query_timeout)
            fairy.info["ara_watch"] = watch
        return watch

    def status(self) -> Mapping[str, Any]:
        """The DBMS (from ``SQLGetInfo``), a round trip of ``sanitysql`` proving it answers."""
        dbms = self.dbms
        self._run(self.reader, self.settings.sanitysql, (), ONE, ("", ""), retry=True)
        return {
            "server": f"{dbms.name} {dbms.version}".strip(),
            "detail": f"{self.label} through {dbms.driver}",
            "pools": self.pool_status(),
        }

    def _ensure_dbms(self) -> Dbms:
        """The DBMS behind the DSN, asked on the first connection; sets the statements' spelling."""
        dbms = self._dbms
        if dbms is not None:
            return dbms
        with self._dbms_lock:
            if self._dbms is not None:
                return self._dbms
            conn = self.pool.acquire()
            try:
                dbms = detect(conn.dbapi)
                if dbms.kind == "mysql":
                    self._found_rows(conn)
            except self._pyodbc.Error as exc:
                self.pool.discard(conn)
                raise BackendError(f"{self.label}: {errors.reason(exc)}") from None
            except BaseException:
                self.pool.discard(conn)
                raise
            self.pool.release(conn)
            self.dialect = dbms.dialect()
            if dbms.kind == "mysql":  # writes raise what Connector/ODBC calls warnings
                self.writer = CheckedWrites(self.pool, self._pyodbc.DataError)
                # a larger statement is refused before it is sent (a QueryError), as ara-mysql
                self.max_statement_bytes = dbms.max_packet
            cls = TsqlStatements if dbms.tsql else Statements
            self._init_tables(cls(self.dialect, codec=self.codec))
            self._dbms = dbms
            log.info("%s: %s", self.label, dbms.describe())
            return dbms

    def _found_rows(self, conn: Any) -> None:
        """MySQL/MariaDB count *changed* rows unless the client asks for found rows.

        Connector/ODBC asks when option bit 2 is set (``OPTION=2``, or a DSN whose ``Option``
        includes 2). A temporary table tells whether the DSN does; if not, connections are
        reopened with ``OPTION=2`` (which replaces other option bits the DSN may set).
        """
        cur = conn.cursor
        try:
            cur.execute("CREATE TEMPORARY TABLE ara_found_rows_probe (x INT)")
            try:
                cur.execute("INSERT INTO ara_found_rows_probe VALUES (1)")
                cur.execute("UPDATE ara_found_rows_probe SET x = 1")
                counts_matched = cur.rowcount == 1
            finally:
                cur.execute("DROP TEMPORARY TABLE ara_found_rows_probe")
        except self._pyodbc.Error as exc:  # no temporary tables for this account: ask anyway
            log.info("%s: cannot probe found rows (%s)", self.label, errors.reason(exc))
            counts_matched = "OPTION" in self._extra
        if counts_matched:
            return
        if "OPTION" in self._extra:
            raise ConfigError(
                f"{self.label}: updates count changed rows, not matched rows, even with "
                "OPTION=2: set Option=2 (found rows) in the DSN or connection string"
            )
        log.info("%s: connecting with OPTION=2 so that updates count matched rows", self.label)
        self._extra["OPTION"] = "2"
        self.pool.invalidate_idle()
        raise _Reconnect

    @property
    def dbms(self) -> Dbms:
        """The DBMS behind the DSN (connects if no connection was made yet)."""
        while True:
            try:
                return self._ensure_dbms()
            except _Reconnect:
                continue

    @property
    def capabilities(self) -> Capabilities:
        """The declaration for the DBMS behind the DSN (the class's one when it is unreachable)."""
        try:
            kind = self.dbms.kind
        except BackendError:
            kind = "generic"
        declared = self.CAPABILITIES
        if kind == "sqlite":
            declared = replace(declared, uint64_order="text", notes=_SQLITE_NOTES)
        elif kind == "sybase":
            declared = replace(
                declared, case_insensitive=True, text_order="collation", notes=_SYBASE_NOTES
            )
        return declared if declared.codec == self.codec else replace(declared, codec=self.codec)

    def pool_status(self) -> dict[str, Any]:
        return {"pool": self.pool.status()}

    # -- what differs between DBMS ----------------------------------------------------------

    def classify(self, exc: BaseException) -> ErrorKind | None:
        kind = self._dbms.kind if self._dbms is not None else "generic"
        return errors.classify(exc, kind, self._pyodbc.Error)

    def reason(self, exc: BaseException) -> str:
        return errors.reason(exc)

    def _failed(
        self,
        pool: Any,
        conn: Any,
        exc: Exception,
        kind: ErrorKind | None,
        where: tuple[str, str],
        *,
        conflicts: int = 0,
    ) -> Exception:
        if kind == "lost" and errors.read_only(exc):  # a standby, or a server set read-only
            self.pool.avoid(conn.conn if isinstance(conn, _Checked) else conn)
        return super()._failed(pool, conn, exc, kind, where, conflicts=conflicts)

    def column_sql(self, table: str, col: ColumnFacts, extra: Mapping[str, Any]) -> ColumnSQL:
        return columns.column_sql(
            self.dbms,
            table,
            col,
            extra,
            codec=self.codec,
            quote=self.dialect.quote,
            decode=self.decode_sql,
        )

    def static_select(self) -> str:
        return columns.static_select(
            self.dbms, self.dialect.quote, self.decode_sql if self.codec else None
        )

    def ddl_type(self, req: Requirement) -> str:
        from ara_realtime.sql.schema import ddl_type  # noqa: PLC0415

        spelled = ddl_type(self.dbms.engine, req, self.mode, self.codec)
        if self.dbms.tsql and spelled.startswith("VARCHAR("):
            return "N" + spelled  # Unicode text
        return spelled

    def create_suffix(self) -> str:
        return " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" if self.dbms.kind == "mysql" else ""

    def _ddl(self, sql: str, table: str, family: str) -> None:
        add = f"ALTER TABLE {self.dialect.quote(table)} ADD COLUMN "
        if self.dbms.tsql and sql.startswith(add):
            sql = f"ALTER TABLE {self.dialect.quote(table)} ADD {sql[len(add) :]}"
        super()._ddl(sql, table, family)

    def execute(self, cursor: Any, sql: str, params: Sequence[object]) -> None:
        """With ``logging = yes``: a statement slower than ``slow_query_limit`` ms is logged."""
        start = time.monotonic()
        cursor.execute(sql, params)
        limit = self.settings.slow_query_limit
        took = (time.monotonic() - start) * 1000
        if limit and took > limit:
            log.warning(
                "%s: slow query (%.0f ms > slow_query_limit %d ms): %s",
                self.label,
                took,
                limit,
                sql,
            )

    def require(self, family: str, table: str, columns: Mapping[str, Requirement]) -> bool:
        """The base's checks with Asterisk's res_config_odbc char sizes.

        A text column meant for an integer, date or datetime must hold the type's widest value
        (``RQ.min_chars``: 11 characters for ``integer4``, 19 for ``datetime``, ...), whatever
        size the caller gave; ``char`` and ``float`` use the size given.
        """
        sized = {c: Requirement(r.type, r.type.min_chars or r.size) for c, r in columns.items()}
        return super().require(family, table, sized)

    def update(
        self, family: str, table: str, key: Condition, values: tuple[tuple[str, str], ...]
    ) -> int:
        """``update2`` with one condition, one call less (the hot path of registrations)."""
        info = self._tables.get(table) or self.table(table, family)
        sql, params = self.statements.update(info, (key,), values, family)
        return int(self._run(self.writer, sql, params, ROWCOUNT, (table, family), retry=False))

    def load_static(self, table: str, filename: str) -> list[StaticTuple]:
        """The base's rows, as tuples (pyodbc's ``Row`` is not one); ``map`` keeps it in C."""
        return list(map(tuple, super().load_static(table, filename)))  # type: ignore[arg-type]

    # -- metadata -----------------------------------------------------------------------------

    def _describe(self, name: str, family: str) -> TableInfo | None:
        check_identifier(name, kind="table", family=family)
        dbms = self.dbms
        schema, _, table = name.rpartition(".")
        try:
            rows, extra = self._catalog(dbms, schema or None, table)
        except self._pyodbc.Error as exc:
            kind = self.classify(exc)
            text = scrub(self.reason(exc), {name, table, schema})
            if kind == "query":
                raise QueryError(
                    f"family {family!r}: table {name!r}: {text}", family=family, table=name
                ) from None
            raise BackendError(f"{self.label}: reading table {name!r}: {text}") from None
        if not rows:
            return None
        facts = [columns.column_facts(r, dbms) for r in rows]
        return self._info(name, facts, extra)

    def _catalog(
        self, dbms: Dbms, schema: str | None, table: str
    ) -> tuple[list[Any], dict[str, Any]]:
        """``SQLColumns`` of one table (``_``/``%`` escaped: its arguments are patterns)."""
        esc = dbms.search_escape

        def pattern(text: str) -> str:
            if not esc:
                return text
            return text.replace(esc, esc * 2).replace("_", esc + "_").replace("%", esc + "%")

        kwargs: dict[str, str] = {"table": pattern(table)}
        where = schema or dbms.schema
        if where is not None:
            kwargs["catalog" if dbms.kind == "mysql" else "schema"] = (
                where if dbms.kind == "mysql" else pattern(where)
            )
        conn = self.pool.acquire()
        try:
            cur = conn.dbapi.cursor()
            try:
                found = [tuple(r) for r in cur.columns(**kwargs) if r[2] == table]
                extra: dict[str, Any] = {}
                if dbms.kind == "mysql" and found:
                    cur.execute(
                        "SELECT COLUMN_NAME, COLLATION_NAME, CHARACTER_SET_NAME FROM "
                        "information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) "
                        "AND TABLE_NAME = ?",
                        [schema, table],
                    )
                    extra = {
                        n: {"collation": coll, "charset": cs} for n, coll, cs in cur.fetchall()
                    }
            finally:
                cur.close()
        except self._pyodbc.Error as exc:
            if self.classify(exc) == "query":
                self.pool.release(conn)
            else:
                self.pool.discard(conn)
            raise
        except BaseException:
            self.pool.discard(conn)
            raise
        self.pool.release(conn)
        if found:  # several schemas with this table (no schema given): the first one's
            first = (found[0][0], found[0][1])
            found = [r for r in found if (r[0], r[1]) == first]
            found.sort(key=lambda r: r[16] if len(r) > 16 and r[16] is not None else 0)
        return found, extra


class CheckedWrites:
    """The writer pool of a MySQL/MariaDB class: the pool's connections, checked after writes.

    MariaDB Connector/ODBC reports some errors of a prepared statement (a value an ENUM or a
    strict column refuses) as a warning (``SQL_SUCCESS_WITH_INFO``) with nothing written. A
    write that changed no row and carries such a warning raises it as the error it is. Reads
    use the pool itself, so they pay nothing for this.
    """

    def __init__(self, pool: OdbcPool, error: type[Exception]) -> None:
        self.pool = pool
        self.label = pool.label
        self.timeout = pool.timeout
        self._error = error

    def acquire(self) -> _Checked:
        conn = self.pool.acquire()
        checked: _Checked | None = conn.checked
        if checked is None:  # made once per connection
            checked = conn.checked = _Checked(conn, self._error)
        return checked

    def release(self, conn: _Checked) -> None:
        self.pool.release(conn.conn)

    def discard(self, conn: _Checked) -> None:
        self.pool.discard(conn.conn)

    def invalidate_idle(self) -> None:
        self.pool.invalidate_idle()

    def status(self) -> PoolStatus:
        return self.pool.status()

    def close(self) -> None:
        """Nothing of its own: the pool closes with the reader."""


class _Checked:
    __slots__ = ("conn", "cursor", "dbapi", "watch")

    def __init__(self, conn: Conn, error: type[Exception]) -> None:
        self.conn = conn
        self.dbapi = conn.dbapi
        self.watch = conn.watch
        self.cursor = _CheckedCursor(conn.cursor, error)


class _CheckedCursor:
    __slots__ = ("_cursor", "_error", "rowcount")

    def __init__(self, cursor: Any, error: type[Exception]) -> None:
        self._cursor = cursor
        self._error = error
        self.rowcount = -1

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        cur = self._cursor
        cur.execute(sql, params)
        self.rowcount = cur.rowcount
        if cur.messages and self.rowcount == 0:
            for tag, text in cur.messages:  # ("[01000] (1265)", "[ma-...]Data truncated ...")
                if any(f"({code})" in tag for code in _MYSQL_DATA_ERRORS):
                    raise self._error("22000", f"{text} {tag.split()[-1]}")

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> Any:
        return self._cursor.fetchall()


class _OtherDbms(Exception):
    """A DSN of the class reaches another kind of DBMS than the first connection did."""


class _Reconnect(Exception):
    """The DBMS needs other connection options: detect again on a new connection."""


# -- the plugin ---------------------------------------------------------------------------

#: The plugin object the ``odbc`` entry point names: every hook calls the connection's method.
driver = ConnectionDriver(OdbcConnection)
