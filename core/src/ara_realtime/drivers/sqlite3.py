"""The ``sqlite3`` driver: the embedded default, standard library only.

Reads Asterisk's ``res_config_sqlite3.conf``: one section per database with ``dbfile``
(required; relative paths are taken from the configuration directory), ``requirements``
(``warn`` | ``createclose`` | ``createchar``), ``busy_timeout`` (ms, default 1000). ``batch``
and ``debug`` are accepted; writes are committed at once (see ``docs/drivers/sqlite3.md``).

Each thread gets its own connection to the file, in WAL mode, so readers never wait for each
other. Values are stored as they are (no ``^XX`` codec, as Asterisk's sqlite3 driver does).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..capabilities import Capabilities
from ..conditions import Condition, check_identifier
from ..conf import Config
from ..datatypes import RQ, Requirement, Row, StaticTuple
from ..driver import ConnectionDriver
from ..errors import BackendError, ConfigError, QueryError
from ..hookspecs import hookimpl
from ..sql import Dialect, Statements, TableInfo
from ..sql.tables import TableCache

__all__ = ["SQLiteConnection", "SQLiteDriver", "driver", "quote"]

log = logging.getLogger(__name__)

CONF_FILE = "res_config_sqlite3.conf"
_MODES = ("warn", "createclose", "createchar")
_KEYS = {"dbfile", "requirements", "batch", "debug", "busy_timeout"}


def quote(name: str) -> str:
    """Quote an identifier for SQLite (``"`` doubled)."""
    return '"' + name.replace('"', '""') + '"'


DIALECT = Dialect(quote=quote, placeholder="?", like_escape=" ESCAPE '\\'", limit_one=" LIMIT 1")

_CAPS = Capabilities.full(
    require_create=True,
    notes={"text_order": "binary (SQLite's BINARY collation)"},
)


def _read_settings(
    database: str, settings: Mapping[str, str], config_dir: Path | None
) -> tuple[dict[str, str], str]:
    """Merge the ``database`` section of res_config_sqlite3.conf with settings from code."""
    merged: dict[str, str] = {}
    where = "<code>"
    if config_dir is not None and (config_dir / CONF_FILE).exists():
        cfg = Config.from_file(CONF_FILE, config_dir=config_dir)
        if database in cfg and database != "general":
            cat = cfg[database]
            where = f"{cat.file}:{cat.lineno}"
            for var in cat:
                if var.name not in _KEYS:
                    raise ConfigError(
                        f"[{database}]: unknown setting {var.name!r}; known: "
                        f"{', '.join(sorted(_KEYS))}",
                        var.file,
                        var.lineno,
                    )
                merged[var.name] = var.value
    merged.update(settings)
    return merged, where


class SQLiteConnection(TableCache):
    """One database file; a connection per thread, metadata and statements cached."""

    CAPABILITIES = _CAPS

    def __init__(
        self,
        database: str,
        settings: Mapping[str, str],
        config_dir: Path | None = None,
    ) -> None:
        merged, where = _read_settings(database, settings, config_dir)
        dbfile = merged.get("dbfile")
        if not dbfile:
            raise ConfigError(
                f"sqlite3 database {database!r}: no 'dbfile' set "
                f"(in [{database}] of {CONF_FILE} or in code; looked in {where})"
            )
        path = Path(dbfile)
        if not path.is_absolute() and config_dir is not None and dbfile != ":memory:":
            path = config_dir / path
        self.database = database
        self.path = str(path)
        self.mode = merged.get("requirements", "warn").strip().lower()
        if self.mode not in _MODES:
            raise ConfigError(
                f"sqlite3 database {database!r}: requirements must be one of "
                f"{', '.join(_MODES)}, got {self.mode!r}"
            )
        try:
            self.timeout = int(merged.get("busy_timeout", "1000")) / 1000.0
        except ValueError:
            raise ConfigError(
                f"sqlite3 database {database!r}: busy_timeout must be milliseconds, "
                f"got {merged['busy_timeout']!r}"
            ) from None
        self._init_tables(Statements(DIALECT))
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._wal_lock = threading.Lock()  # this process's connections switch to WAL in turn
        #: (table, column) -> (SQL, columns) of ``load`` by one plain equality: the hot path
        self.point: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
        self._epoch = 0  # bumped by forget(): a statement built before it is not remembered

    def __repr__(self) -> str:
        return f"<SQLiteConnection {self.database!r} {self.path!r}>"

    # -- connections --------------------------------------------------------------------

    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
            self._local.cursor = conn.cursor()
        return conn

    def cursor(self) -> sqlite3.Cursor:
        """This thread's reusable cursor (for single-row reads)."""
        try:
            cursor: sqlite3.Cursor = self._local.cursor
        except AttributeError:
            self.conn()
            cursor = self._local.cursor
        return cursor

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self.timeout,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=256,
            )
        except sqlite3.Error as exc:
            raise BackendError(f"sqlite3 {self.path!r}: {exc}") from exc
        try:
            conn.execute("PRAGMA case_sensitive_like = ON")
            if self.path != ":memory:":
                self._wal(conn)
                conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            conn.close()
            raise BackendError(f"sqlite3 {self.path!r}: {exc}") from exc
        with self._lock:
            self._all.append(conn)
        return conn

    def _wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL (once per file; a no-op after that).

        Leaving rollback mode needs an exclusive lock, and SQLite answers a connection that
        would deadlock for it with "locked" at once, without its busy handler: so this
        process's connections take turns, and another process's is waited out here. Each
        caller waits at most ``busy_timeout`` in all, its turn included.
        """
        deadline = time.monotonic() + self.timeout
        if not self._wal_lock.acquire(timeout=self.timeout):
            raise sqlite3.OperationalError("database is locked")
        try:
            pause = 0.001
            while True:
                left = max(0, int((deadline - time.monotonic()) * 1000))
                conn.execute(f"PRAGMA busy_timeout = {left}")
                try:
                    conn.execute("PRAGMA journal_mode = WAL")
                    return
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                        raise
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
        finally:
            self._wal_lock.release()
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()

    def _error(self, exc: sqlite3.Error, table: str, family: str) -> Exception:
        """Classify a sqlite3 error: the caller's mistake, or the storage failing."""
        text = str(exc)
        if text.startswith(_NOT_UTF8):  # bad data, not a failing backend; never echo the value
            column = text[len(_NOT_UTF8) :].partition(" with text ")[0]
            return QueryError(
                f"family {family!r}, table {table!r}: a stored value of column {column} "
                f"is not valid UTF-8",
                family=family,
                table=table,
            )
        if isinstance(exc, sqlite3.IntegrityError):
            return QueryError(
                f"family {family!r}, table {table!r}: {text}", family=family, table=table
            )
        if isinstance(exc, sqlite3.DataError) or (
            isinstance(exc, sqlite3.OperationalError) and any(m in text for m in _CALLER_MISTAKES)
        ):
            return QueryError(
                f"family {family!r}, table {table!r}: {text}", family=family, table=table
            )
        return BackendError(f"sqlite3 {self.path!r}: {text}")

    # -- metadata -----------------------------------------------------------------------

    @property
    def where(self) -> str:
        return repr(self.path)

    def _describe(self, name: str, family: str) -> TableInfo | None:
        check_identifier(name, kind="table", family=family)
        try:
            rows = self.conn().execute(f"PRAGMA table_info({quote(name)})").fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc, name, family) from exc
        if not rows:
            return None
        columns = tuple(r[1] for r in rows)
        types = {r[1]: (r[2] or "").upper() for r in rows}
        affinity = {c: _affinity(t) for c, t in types.items()}
        numeric = {c for c, a in affinity.items() if a in ("INTEGER", "REAL", "NUMERIC")}
        # SQLite hands back numbers (or bytes) as stored: cast every column in the statement so
        # rows are built from strings alone (an empty string or NULL is falsy: left out)
        select = ", ".join(f"CAST({quote(c)} AS TEXT)" for c in columns)
        return TableInfo(
            name=name,
            columns=columns,
            text=frozenset(c for c in columns if c not in numeric),
            nullable=frozenset(r[1] for r in rows if not r[3] and not r[5]),
            select_list=select,
            extra={"types": types},
        )

    def forget(self, name: str) -> bool:
        """Also drop ``name``'s point statements (and keep in-flight ones from coming back)."""
        self._epoch += 1
        for key in list(self.point):
            if key[0] == name:
                self.point.pop(key, None)
        return super().forget(name)

    # -- operations ---------------------------------------------------------------------

    def _execute(self, sql: str, params: list[object], table: str, family: str) -> sqlite3.Cursor:
        try:
            return self.conn().execute(sql, params)
        except sqlite3.Error as exc:
            raise self._error(exc, table, family) from exc

    def _fetchall(self, sql: str, params: list[object], table: str, family: str) -> list[Any]:
        """Every result row (reading them can fail too: a value that is not UTF-8)."""
        try:
            return self.conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc, table, family) from exc

    def load(self, family: str, table: str, conds: tuple[Condition, ...]) -> Row | None:
        epoch = self._epoch
        info = self._tables.get(table) or self.table(table, family)
        sql, params = self.statements.select(info, conds, family, multi=False)
        if len(conds) == 1 and conds[0].op == "=" and conds[0].value and epoch == self._epoch:
            self.point[(table, conds[0].column)] = (sql, info.columns)
        try:
            row = self.cursor().execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise self._error(exc, table, family) from exc
        if row is None:
            return None
        return {c: v for c, v in zip(info.columns, row) if v}

    def load_multi(self, family: str, table: str, conds: tuple[Condition, ...]) -> list[Row]:
        info = self.table(table, family)
        sql, params = self.statements.select(info, conds, family, multi=True)
        cols = info.columns
        rows = self._fetchall(sql, params, table, family)
        return [{c: v for c, v in zip(cols, r) if v} for r in rows]

    def update2(
        self,
        family: str,
        table: str,
        conds: tuple[Condition, ...],
        values: tuple[tuple[str, str], ...],
    ) -> int:
        info = self.table(table, family)
        sql, params = self.statements.update(info, conds, values, family)
        return self._execute(sql, params, table, family).rowcount

    def store(self, family: str, table: str, values: tuple[tuple[str, str], ...]) -> int:
        info = self.table(table, family)
        sql, params = self.statements.insert(info, values, family)
        return self._execute(sql, params, table, family).rowcount

    def destroy(self, family: str, table: str, conds: tuple[Condition, ...]) -> int:
        info = self.table(table, family)
        sql, params = self.statements.delete(info, conds, family)
        return self._execute(sql, params, table, family).rowcount

    def require(self, family: str, table: str, columns: Mapping[str, Requirement]) -> bool:
        check_identifier(table, kind="table", family=family)
        info = self._describe(table, family)
        create = self.mode != "warn"
        if info is None:
            if not create:
                log.warning(
                    "family %r: table %r does not exist in %s (requirements=warn)",
                    family,
                    table,
                    self.path,
                )
                return False
            cols = ", ".join(f"{quote(c)} {self._sql_type(r)}" for c, r in columns.items())
            self._execute(f"CREATE TABLE IF NOT EXISTS {quote(table)} ({cols})", [], table, family)
            self.forget(table)
            return True
        ok = True
        for column, req in columns.items():
            if column in info.column_set:
                continue
            if not create:
                log.warning(
                    "family %r: table %r has no column %r (needs %s(%d))",
                    family,
                    table,
                    column,
                    req.type.name,
                    req.size,
                )
                ok = False
                continue
            self._execute(
                f"ALTER TABLE {quote(table)} ADD COLUMN {quote(column)} {self._sql_type(req)}",
                [],
                table,
                family,
            )
        self.forget(table)
        return ok

    def _sql_type(self, req: Requirement) -> str:
        if self.mode == "createchar":
            return "TEXT"
        if req.type.is_int and req.type is not RQ.UINTEGER8:
            return "INTEGER"
        if req.type is RQ.FLOAT:
            return "REAL"
        return "TEXT"

    def load_static(self, table: str, filename: str) -> list[StaticTuple]:
        check_identifier(table, kind="table")
        info = self.table(table, filename)
        info.check(
            [
                "filename",
                "category",
                "var_name",
                "var_val",
                "cat_metric",
                "var_metric",
                "commented",
            ],
            filename,
        )
        sql = self.statements.static(table, select=_STATIC_SELECT)
        rows: list[StaticTuple] = self._fetchall(sql, [filename], table, filename)
        return rows


#: The static row's five values as the hook hands them over, made so by SQLite itself: texts
#: (numbers stored in them included) with NULL as "", metrics as integers with NULL as 0.
_STATIC_SELECT = ", ".join(
    [
        *(f"COALESCE(CAST({quote(c)} AS TEXT), '')" for c in ("category", "var_name", "var_val")),
        *(f"CAST(COALESCE({quote(c)}, 0) AS INTEGER)" for c in ("cat_metric", "var_metric")),
    ]
)

#: How Python's sqlite3 reports stored text that is not UTF-8 (followed by the value).
_NOT_UTF8 = "Could not decode to UTF-8 column "

#: OperationalError texts that mean the request was wrong, not that the storage failed.
_CALLER_MISTAKES = (
    "no such table",
    "no such column",
    "syntax error",
    "too many SQL variables",
    "string or blob too big",
    "too many columns",
)


def _affinity(decl: str) -> str:
    """SQLite's type affinity rules (section 3.1 of its datatype documentation)."""
    if "INT" in decl:
        return "INTEGER"
    if "CHAR" in decl or "CLOB" in decl or "TEXT" in decl:
        return "TEXT"
    if "BLOB" in decl or not decl:
        return "BLOB"
    if "REAL" in decl or "FLOA" in decl or "DOUB" in decl:
        return "REAL"
    return "NUMERIC"


# -- the plugin ---------------------------------------------------------------------------


class SQLiteDriver(ConnectionDriver["SQLiteConnection"]):
    """Hooks forward to :class:`SQLiteConnection`; ``ara_load`` has a shortcut."""

    @hookimpl
    def ara_load(
        self,
        connection: SQLiteConnection,
        family: str,
        table: str,
        conditions: tuple[Condition, ...],
    ) -> Row | None:
        if len(conditions) == 1:  # one plain equality: the statement is already known
            column, op, value = conditions[0]
            hit = connection.point.get((table, column)) if op == "=" and value else None
            if hit is not None:
                sql, columns = hit
                try:
                    cursor = connection._local.cursor
                except AttributeError:
                    cursor = connection.cursor()
                try:
                    row = cursor.execute(sql, (value,)).fetchone()
                except sqlite3.Error as exc:
                    raise connection._error(exc, table, family) from exc
                return None if row is None else {c: v for c, v in zip(columns, row) if v}
        return connection.load(family, table, conditions)


#: The plugin object the ``sqlite3`` entry point names.
driver = SQLiteDriver(SQLiteConnection)
