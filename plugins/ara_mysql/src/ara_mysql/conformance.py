"""The conformance target for this driver (imported only by test runs; needs ara-conformance).

It gives the suite a back door (a DB-API connection beside the driver) and a real outage: the
role's own account is locked and its sessions are killed, then it is unlocked. Each role
(``main``, ``primary``, ``secondary``) is its own database (``<dbname>``,
``<dbname>_primary``, ...) reached through its own account (the main one's name plus
``_primary``, ...), created when missing; that needs an account allowed to create databases
and users. Used as ``class TestMysql(ConformanceTests)`` with ``MySQLTarget(settings=...)``,
or through the ``ara_conformance.targets`` entry point (``--ara-driver mysql``).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ara_conformance import Session, Target

from .config import read_config
from .driver import quote

__all__ = ["MySQLTarget", "make_target"]

_ROLES = ("main", "primary", "secondary")


class MySQLTarget(Target):
    """``mysql`` on one server, a database and an account per role."""

    outage_kind = "real (the role's account is locked and its sessions killed)"

    def __init__(
        self,
        *,
        database: str = "ara_conformance",
        settings: Mapping[str, str] | None = None,
        workdir: Path | None = None,
        **options: Any,
    ) -> None:
        super().__init__("mysql", database=database, settings=settings, **options)
        spec = read_config(database, self.settings, None)
        self._args = dict(spec.connect_args)
        self._args.pop("client_flag", None)
        self._module: Any = importlib.import_module(
            "MySQLdb" if spec.url.get_driver_name() == "mysqldb" else "pymysql"
        )
        self._dbname = str(self._args.get("database") or spec.url.database or "asterisk")
        self._user = str(self._args.get("user") or spec.url.username or "asterisk")
        self._password = str(self._args.get("password") or spec.url.password or "")
        self._conn: Any = None
        for role in _ROLES[1:]:
            db, user = f"{self._dbname}_{role}", f"{self._user}_{role}"
            self._sql(f"CREATE DATABASE IF NOT EXISTS {quote(db)} CHARACTER SET utf8mb4")
            self._sql(f"CREATE USER IF NOT EXISTS '{user}'@'%%' IDENTIFIED BY %s", self._password)
            self._sql(f"GRANT ALL ON {quote(db)}.* TO '{user}'@'%%'")

    def database_settings(self, role: str) -> tuple[str, dict[str, str]]:
        if role == "main":
            return self.database, dict(self.settings)
        return f"{self.database}_{role}", {
            **self.settings,
            "dbname": f"{self._dbname}_{role}",
            "dbuser": f"{self._user}_{role}",
        }

    def _dbname_of(self, database: str) -> str:
        for role in _ROLES:
            name, settings = self.database_settings(role)
            if name == database:
                return settings.get("dbname", self._dbname)
        raise KeyError(database)

    def _sql(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = self._module.connect(**self._args, autocommit=True)
            try:
                cur = self._conn.cursor()
                cur.execute(sql, params)
                rows = list(cur.fetchall()) if cur.description else []
                cur.close()
                return rows
            except self._module.OperationalError:
                self._conn = None
                if attempt == 2:
                    raise
        return []

    # The back door: the same tables through the DB-API, without the driver.

    def read_raw(self, database: str, table: str) -> list[dict[str, Any]]:
        name = f"{quote(self._dbname_of(database))}.{quote(table)}"
        self._sql("SELECT 1")
        cur = self._conn.cursor()
        cur.execute(f"SELECT * FROM {name}", ())
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
        cur.close()
        return rows

    def write_raw(self, database: str, table: str, row: Mapping[str, str | None]) -> None:
        name = f"{quote(self._dbname_of(database))}.{quote(table)}"
        cols = ", ".join(quote(c) for c in row)
        marks = ", ".join("%s" for _ in row)
        self._sql(f"INSERT INTO {name} ({cols}) VALUES ({marks})", *row.values())

    def drop_table(self, database: str, table: str) -> None:
        self._sql(f"DROP TABLE IF EXISTS {quote(self._dbname_of(database))}.{quote(table)}")

    @contextlib.contextmanager
    def outage(self, session: Session, role: str) -> Iterator[None]:
        user = self.database_settings(role)[1]["dbuser"]
        self._sql(f"ALTER USER '{user}'@'%%' ACCOUNT LOCK")
        for (pid,) in self._sql(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = %s", user
        ):
            with contextlib.suppress(Exception):
                self._sql(f"KILL {int(pid)}")
        try:
            yield
        finally:
            self._sql(f"ALTER USER '{user}'@'%%' ACCOUNT UNLOCK")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def make_target(
    *, database: str | None = None, settings: Mapping[str, str] | None = None, **options: Any
) -> MySQLTarget:
    """Entry point ``ara_conformance.targets: mysql``."""
    if database:
        options["database"] = database
    return MySQLTarget(settings=settings, **options)
