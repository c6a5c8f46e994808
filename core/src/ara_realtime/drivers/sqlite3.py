"""The ``sqlite3`` driver: the embedded default, standard library only.

Reads Asterisk's ``res_config_sqlite3.conf``: one section per database with ``dbfile``
(required; relative paths are taken from the configuration directory), ``requirements``
(``warn`` | ``createclose`` | ``createchar``), ``busy_timeout`` (ms, default 1000). ``batch``
and ``debug`` are accepted; writes are committed at once (see ``docs/drivers/sqlite3.md``).
Beyond Asterisk's keys: ``pool_size`` (idle connections kept, default 5), ``pool_overflow``
(more connections while threads wait for none, default 10) and ``pool_timeout`` (seconds a
call waits for a free connection, default 5).

Connections come from a bounded pool (:class:`~ara_realtime.sql.pool.BoundedPool`), each in
WAL mode, so readers never wait for each other and a burst of threads costs no more than the
bound. Values are stored as they are (no ``^XX`` codec, as Asterisk's sqlite3 driver does).

Its change feed polls ``PRAGMA data_version`` on a connection of its own: a cheap read of the
file's change counter that moves when any other connection, in any process, commits. It knows
the database changed, not which table, so every watched table is reported changed.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from ..capabilities import Capabilities
from ..changes import Change, ChangeFeed, Subscription
from ..conf import Config
from ..driver import ConnectionDriver
from ..errors import BackendError, ConfigError
from ..sql import ColumnSQL, DBAPIConnection, Dialect, TableInfo
from ..sql.base import ALL, ErrorKind
from ..sql.pool import BoundedPool
from ..sql.schema import ColumnFacts, sqlite_column_facts

__all__ = ["SQLiteConnection", "driver", "quote"]

CONF_FILE = "res_config_sqlite3.conf"
_MODES = ("warn", "createclose", "createchar")
_KEYS = {
    "dbfile",
    "requirements",
    "batch",
    "debug",
    "busy_timeout",
    "pool_size",
    "pool_overflow",
    "pool_timeout",
}


def quote(name: str) -> str:
    """Quote an identifier for SQLite (``"`` doubled)."""
    return '"' + name.replace('"', '""') + '"'


DIALECT = Dialect(quote=quote, placeholder="?", like_escape=" ESCAPE '\\'", limit_one=" LIMIT 1")


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
    for key, value in settings.items():
        if key not in _KEYS:
            raise ConfigError(
                f"sqlite3 database {database!r}: unknown setting {key!r}; known: "
                f"{', '.join(sorted(_KEYS))}"
            )
        merged[key] = value
    return merged, where


def _number(database: str, merged: Mapping[str, str], key: str, default: str, low: float) -> float:
    text = merged.get(key, default)
    try:
        value = float(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise ConfigError(
            f"sqlite3 database {database!r}: {key} must be a number >= {low:g}, got {text!r}"
        )
    return value


class SQLiteConnection(DBAPIConnection):
    """One database file: a bounded pool of connections, metadata and statements cached."""

    CAPABILITIES = Capabilities.full(
        require_create=True,
        uint64_order="text",
        change_feed="poll",
        notes={
            "change_feed": "PRAGMA data_version, polled: any commit to the file reports every "
            "watched table changed",
            "text_order": "binary (SQLite's BINARY collation)",
            "uint64_order": "SQLite integers are signed 64-bit: uinteger8 columns are TEXT (as "
            "Asterisk creates them), exact up to 2**64-1 but compared and sorted as text",
        },
    )
    driver = "sqlite3"
    engine_kind = "sqlite"
    VERSION_SQL = "SELECT 'SQLite ' || sqlite_version()"

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
        self.path = str(path)
        mode = merged.get("requirements", "warn").strip().lower()
        if mode not in _MODES:
            raise ConfigError(
                f"sqlite3 database {database!r}: requirements must be one of "
                f"{', '.join(_MODES)}, got {mode!r}"
            )
        try:
            self.timeout = int(merged.get("busy_timeout", "1000")) / 1000.0
        except ValueError:
            raise ConfigError(
                f"sqlite3 database {database!r}: busy_timeout must be milliseconds, "
                f"got {merged['busy_timeout']!r}"
            ) from None
        self._wal_lock = threading.Lock()  # this process's connections switch to WAL in turn
        label = f"sqlite3 {self.path!r}"
        pool = BoundedPool(
            self._open,
            label,
            size=int(_number(database, merged, "pool_size", "5", 1)),
            overflow=int(_number(database, merged, "pool_overflow", "10", 0)),
            timeout=_number(database, merged, "pool_timeout", "5", 0.001),
        )
        super().__init__(database, label, dialect=DIALECT, codec=False, mode=mode, reader=pool)

    def __repr__(self) -> str:
        return f"<SQLiteConnection {self.database!r} {self.path!r}>"

    # -- connections --------------------------------------------------------------------

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

    def change_feed(self) -> ChangeFeed | None:
        return None if self.path == ":memory:" else SQLiteChangeFeed(self)

    def classify(self, exc: BaseException) -> ErrorKind | None:
        """The caller's mistake, or the storage failing (SQLite has no lost connections)."""
        if not isinstance(exc, sqlite3.Error):
            return None
        if isinstance(exc, (sqlite3.IntegrityError, sqlite3.DataError)):
            return "query"
        text = str(exc)
        if text.startswith(_NOT_UTF8) or any(m in text for m in _CALLER_MISTAKES):
            return "query"
        return "backend"

    def reason(self, exc: BaseException) -> str:
        text = str(exc)
        if text.startswith(_NOT_UTF8):  # bad data, not a failing backend; never echo the value
            column = text[len(_NOT_UTF8) :].partition(" with text ")[0]
            return f"a stored value of column {column} is not valid UTF-8"
        return text

    # -- metadata -----------------------------------------------------------------------

    def _describe(self, name: str, family: str) -> TableInfo | None:
        rows = self._run(
            self.writer, f"PRAGMA table_info({quote(name)})", (), ALL, (name, family), retry=False
        )
        if not rows:
            return None
        facts = [
            sqlite_column_facts(r[1], (r[2] or "").upper(), not r[3] and not r[5]) for r in rows
        ]
        return self._info(name, facts, {})

    def column_sql(self, table: str, col: ColumnFacts, extra: Mapping[str, object]) -> ColumnSQL:
        # SQLite hands back numbers (or bytes) as stored: every column is cast in the SELECT,
        # so rows are built from strings alone (an empty string or NULL is falsy: left out)
        return ColumnSQL(select=f"CAST({quote(col.name)} AS TEXT)")

    def static_select(self) -> str:
        return _STATIC_SELECT


class SQLiteChangeFeed(ChangeFeed):
    """Commits to the database file by anyone, found by polling ``PRAGMA data_version``."""

    kind = "poll"

    def __init__(self, connection: SQLiteConnection) -> None:
        self.connection = connection

    def subscribe(self, tables: Mapping[str, str | None], *, interval: float) -> Subscription:
        return _DataVersion(self.connection, frozenset(tables), interval)


class _DataVersion(Subscription):
    """A connection of its own whose ``data_version`` moves with every other commit."""

    def __init__(self, owner: SQLiteConnection, tables: frozenset[str], interval: float) -> None:
        self.tables = tables
        self.bound = interval
        self._path = owner.path
        self._db = owner._open()
        try:
            self._file = self._identity()
            self._version = self._read()
        except BaseException:
            self._db.close()
            raise
        self._next = time.monotonic() + interval

    def _identity(self) -> tuple[int, int]:
        """The file the connection has open: a file put in its place is another database."""
        try:
            st = os.stat(self._path)
        except OSError as exc:
            raise BackendError(f"sqlite3 {self._path!r}: {exc.strerror or exc}") from None
        return (st.st_dev, st.st_ino)

    def _read(self) -> int:
        try:
            row = self._db.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error as exc:
            raise BackendError(f"sqlite3 {self._path!r}: {exc}") from None
        return int(row[0])

    def wait(self, timeout: float) -> list[Change] | None:
        delay = self._next - time.monotonic()
        if delay > timeout:
            time.sleep(timeout)
            return []
        if delay > 0:
            time.sleep(delay)
        self._next = time.monotonic() + self.bound
        if self._identity() != self._file:
            raise BackendError(f"sqlite3 {self._path!r}: the database file was replaced")
        version = self._read()
        if version == self._version:
            return []
        self._version = version
        return [Change(table) for table in sorted(self.tables)]

    def close(self) -> None:
        self._db.close()


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


#: The plugin object the ``sqlite3`` entry point names.
driver = ConnectionDriver(SQLiteConnection)
