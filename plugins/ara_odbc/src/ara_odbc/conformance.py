"""The conformance target for this driver (imported only by test runs; needs ara-conformance).

It gives the suite a back door (pyodbc on the same DSN, beside the driver) and a real outage,
for whichever DBMS the DSN reaches:

* PostgreSQL: each role is its own database (``<db>_primary``, ...), created when missing; an
  outage makes the role's database refuse connections and ends its sessions.
* MariaDB/MySQL: each role is its own database and account (``<user>_primary``, ...); an
  outage locks the account and kills its sessions (needs an account that may create both).
* SQLite: each role is a file in its own directory under ``workdir``; an outage renames the
  directory away and drops the pooled connections.

Each role reaches its database through the class's DSN with ``Database=`` (and for MariaDB
``UID=``) given in the connection string, which overrides the DSN's own. Used as
``class TestOdbc(ConformanceTests)`` with ``OdbcTarget(settings={"dsn": ...})``, or through the
``ara_conformance.targets`` entry point (``--ara-driver odbc --ara-setting dsn=NAME``).
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ara_conformance import Session, Target

from .config import _pairs, connection_string, read_config
from .dbms import Dbms, detect
from .driver import prepare, pyodbc_module

__all__ = ["OdbcTarget", "make_target"]

_ROLES = ("main", "primary", "secondary")


def _with(dsn: str, **keys: str) -> str:
    """The connection string of ``dsn`` (a DSN name or a string) with ``keys`` set."""
    pairs = _pairs(dsn) if "=" in dsn else [("DSN", dsn)]
    lowered = {k.lower() for k in keys}
    kept = [(k, v) for k, v in pairs if k.lower() not in lowered]
    return ";".join(f"{k}={{{v}}}" if ";" in v else f"{k}={v}" for k, v in [*kept, *keys.items()])


class OdbcTarget(Target):
    """``odbc`` on one DSN: a database (SQLite: a file) per role, the back door through pyodbc."""

    def __init__(
        self,
        *,
        database: str = "ara_conformance",
        settings: Mapping[str, str] | None = None,
        workdir: Path | None = None,
        **options: Any,
    ) -> None:
        super().__init__("odbc", database=database, settings=settings, **options)
        self._pyodbc = pyodbc_module()
        self._base = read_config(database, self.settings, None)
        self._conns: dict[str, Any] = {}
        self._own_dir = workdir is None
        self._workdir = workdir
        admin = self._pyodbc.connect(connection_string(self._base), autocommit=True, timeout=10)
        prepare(admin, self._pyodbc)
        self._admin = admin
        self.dbms: Dbms = detect(admin)
        kind = self.dbms.kind
        self._roles: dict[str, dict[str, str]] = {}
        if kind == "postgresql":
            self._main_db = str(self._scalar(admin, "SELECT current_database()"))
            for role in _ROLES[1:]:
                db = f"{self._main_db}_{role}"
                if not self._scalar(admin, "SELECT 1 FROM pg_database WHERE datname = ?", db):
                    admin.cursor().execute(f'CREATE DATABASE "{db}"')
                self._roles[role] = {"Database": db}
        elif kind == "mysql":
            self._main_db = str(self._scalar(admin, "SELECT DATABASE()"))
            user = str(self._scalar(admin, "SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1)"))
            password = secrets.token_hex(12)  # the role accounts' (hex: safe in SQL text)
            cur = admin.cursor()
            for role in _ROLES[1:]:
                db, account = f"{self._main_db}_{role}", f"{user}_{role}"
                cur.execute(f"CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8mb4")
                cur.execute(f"CREATE USER IF NOT EXISTS '{account}'@'%' IDENTIFIED BY '{password}'")
                cur.execute(f"ALTER USER '{account}'@'%' IDENTIFIED BY '{password}'")
                cur.execute(f"GRANT ALL ON `{db}`.* TO '{account}'@'%'")
                self._roles[role] = {"Database": db, "UID": account, "PWD": password}
        elif kind == "sqlite":
            if self._workdir is None:
                self._workdir = Path(tempfile.mkdtemp(prefix="ara-odbc-sqlite-"))
            for role in _ROLES:
                self._roles[role] = {"Database": str(self._file(role))}
        else:
            raise NotImplementedError(f"no conformance target for {self.dbms.describe()}")
        self.outage_kind = {
            "postgresql": "real (the role's database refuses connections; its sessions are ended)",
            "mysql": "real (the role's account is locked and its sessions killed)",
            "sqlite": "real (the role's database directory is renamed away and restored)",
        }[kind]
        if kind == "sqlite":  # the main role is a file of the target too (its directory moves)
            self.settings["dsn"] = _with(self._base.dsn, **self._roles["main"])

    def _dir(self, role: str) -> Path:
        assert self._workdir is not None
        return self._workdir / f"sqlite-{role}"

    def _file(self, role: str) -> Path:
        path = self._dir(role)
        path.mkdir(parents=True, exist_ok=True)
        return path / "conformance.db"

    @staticmethod
    def _scalar(conn: Any, sql: str, *params: Any) -> Any:
        cur = conn.cursor()
        try:
            cur.execute(sql, *params)
            row = cur.fetchone()
            return row[0] if row else None
        finally:
            cur.close()

    def database_settings(self, role: str) -> tuple[str, dict[str, str]]:
        if role == "main":
            return self.database, dict(self.settings)
        keys = self._roles[role]
        settings = {**self.settings, "dsn": _with(self._base.dsn, **keys)}
        settings.pop("username", None)  # MariaDB: the role's own account, in the string
        settings.pop("password", None)
        return f"{self.database}_{role}", settings

    def _role_of(self, database: str) -> str:
        for role in _ROLES:
            if self.database_settings(role)[0] == database:
                return role
        raise KeyError(database)

    def _conn(self, role: str) -> Any:
        conn = self._conns.get(role)
        if conn is None:
            _, settings = self.database_settings(role)
            cs = connection_string(read_config(self.database, settings, None))
            conn = self._conns[role] = self._pyodbc.connect(cs, autocommit=True, timeout=10)
            prepare(conn, self._pyodbc)
        return conn

    def _run(self, role: str, sql: str, params: list[Any] | None = None) -> Any:
        for attempt in (1, 2):
            try:
                cur = self._conn(role).cursor()
                cur.execute(sql, params or [])
                return cur
            except self._pyodbc.Error:
                stale = self._conns.pop(role, None)
                if stale is not None:
                    with contextlib.suppress(Exception):
                        stale.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _quote(self, name: str) -> str:
        return self.dbms.quote()(name)

    # The back door: the same tables through pyodbc, without the driver.

    def read_raw(self, database: str, table: str) -> list[dict[str, Any]]:
        role = self._role_of(database)
        cur = self._run(role, f"SELECT * FROM {self._quote(table)}")
        names = [d[0] for d in cur.description]
        if self.dbms.kind == "sqlite":  # its driver reads INTEGER columns as 32-bit numbers
            cur.fetchall()
            cast = ", ".join(f"CAST({self._quote(n)} AS TEXT)" for n in names)
            cur = self._run(role, f"SELECT {cast} FROM {self._quote(table)}")
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
        cur.close()
        return rows

    def write_raw(self, database: str, table: str, row: Mapping[str, str | None]) -> None:
        cols = ", ".join(self._quote(c) for c in row)
        marks = ", ".join("?" for _ in row)
        sql = f"INSERT INTO {self._quote(table)} ({cols}) VALUES ({marks})"
        self._run(self._role_of(database), sql, list(row.values())).close()

    def drop_table(self, database: str, table: str) -> None:
        self._run(self._role_of(database), f"DROP TABLE IF EXISTS {self._quote(table)}").close()

    @contextlib.contextmanager
    def outage(self, session: Session, role: str) -> Iterator[None]:
        stale = self._conns.pop(role, None)
        if stale is not None:
            stale.close()
        kind = self.dbms.kind
        cur = self._admin.cursor()
        if kind == "postgresql":
            db = self._roles[role]["Database"]
            cur.execute(f'ALTER DATABASE "{db}" WITH ALLOW_CONNECTIONS false')
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = ? AND pid <> pg_backend_pid()",
                db,
            )
            cur.fetchall()
            try:
                yield
            finally:
                cur.execute(f'ALTER DATABASE "{db}" WITH ALLOW_CONNECTIONS true')
        elif kind == "mysql":
            account = self._roles[role]["UID"]
            cur.execute(f"ALTER USER '{account}'@'%' ACCOUNT LOCK")
            cur.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?", account)
            for (pid,) in cur.fetchall():
                with contextlib.suppress(self._pyodbc.Error):
                    cur.execute(f"KILL {int(pid)}")
            try:
                yield
            finally:
                cur.execute(f"ALTER USER '{account}'@'%' ACCOUNT UNLOCK")
        else:
            where = self._dir(role)
            away = where.with_name(where.name + ".down")
            where.rename(away)
            session.drop_connections()
            try:
                yield
            finally:
                away.rename(where)

    def close(self) -> None:
        for conn in [*self._conns.values(), self._admin]:
            with contextlib.suppress(Exception):
                conn.close()
        self._conns.clear()
        if self._own_dir and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)


def make_target(
    *, database: str | None = None, settings: Mapping[str, str] | None = None, **options: Any
) -> OdbcTarget:
    """Entry point ``ara_conformance.targets: odbc``."""
    if database:
        options["database"] = database
    return OdbcTarget(settings=settings, **options)
