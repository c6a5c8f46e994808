"""The conformance target for this driver (imported only by test runs; needs ara-conformance).

It gives the suite a back door (psycopg on the same database, beside the driver) and a real
outage: the role's database stops accepting connections and its sessions are terminated, then
it is opened again. Each role (``main``, ``primary``, ``secondary``) is its own database
(``<dbname>``, ``<dbname>_primary``, ...), created when missing. Used two ways:

* ``class TestPgsql(ConformanceTests)`` in ``tests/`` with ``PgsqlTarget(settings=...)``;
* ``pytest -p ara_conformance --pyargs ara_conformance.suite --ara-driver pgsql
  --ara-setting hostname=... --ara-setting password=...`` through the
  ``ara_conformance.targets`` entry point.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ara_conformance import Session, Target

from .config import read_config

__all__ = ["PgsqlTarget", "make_target"]

_ROLES = ("main", "primary", "secondary")


class PgsqlTarget(Target):
    """``pgsql`` on one server, a database per role."""

    outage_kind = "real (the role's database refuses connections; its sessions are ended)"

    def __init__(
        self,
        *,
        database: str = "ara_conformance",
        settings: Mapping[str, str] | None = None,
        workdir: Path | None = None,
        **options: Any,
    ) -> None:
        super().__init__("pgsql", database=database, settings=settings, **options)
        self._conns: dict[str, psycopg.Connection[Any]] = {}
        base = read_config(database, self.settings, None)
        self._dbname = str(base.connect_args.get("dbname") or base.url.database or "asterisk")
        for role in _ROLES[1:]:
            self._ensure_database(f"{self._dbname}_{role}")

    def database_settings(self, role: str) -> tuple[str, dict[str, str]]:
        if role == "main":
            return self.database, dict(self.settings)
        return f"{self.database}_{role}", {**self.settings, "dbname": f"{self._dbname}_{role}"}

    def _dbname_of(self, database: str) -> str:
        for role in _ROLES:
            name, settings = self.database_settings(role)
            if name == database:
                return settings.get("dbname", self._dbname)
        raise KeyError(database)

    def _connect(self, dbname: str) -> psycopg.Connection[Any]:
        spec = read_config("raw", {**self.settings, "dbname": dbname}, None)
        args = dict(spec.connect_args)
        args.pop("application_name", None)
        if "host" in args:
            return psycopg.connect(**args, autocommit=True)
        url = spec.url.set(drivername="postgresql", database=dbname)
        return psycopg.connect(url.render_as_string(hide_password=False), **args, autocommit=True)

    def _conn(self, dbname: str) -> psycopg.Connection[Any]:
        conn = self._conns.get(dbname)
        if conn is None or conn.closed or conn.broken:
            conn = self._conns[dbname] = self._connect(dbname)
        return conn

    def _ensure_database(self, dbname: str) -> None:
        conn = self._conn(self._dbname)
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))

    # The back door: the same tables through psycopg, without the driver.

    def read_raw(self, database: str, table: str) -> list[dict[str, Any]]:
        cur = self._conn(self._dbname_of(database)).execute(
            sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))
        )
        names = [d.name for d in cur.description or ()]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def write_raw(self, database: str, table: str, row: Mapping[str, str | None]) -> None:
        query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, row)),
            sql.SQL(", ").join(sql.Placeholder() * len(row)),
        )
        self._conn(self._dbname_of(database)).execute(query, list(row.values()))

    def drop_table(self, database: str, table: str) -> None:
        self._conn(self._dbname_of(database)).execute(
            sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table))
        )

    @contextlib.contextmanager
    def outage(self, session: Session, role: str) -> Iterator[None]:
        dbname = self._dbname_of(session.database(role))
        admin = self._conn(self._dbname)
        ident = sql.Identifier(dbname)
        stale = self._conns.pop(dbname, None)
        if stale is not None:
            stale.close()
        admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(ident))
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        )
        try:
            yield
        finally:
            admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(ident))

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()


def make_target(
    *, database: str | None = None, settings: Mapping[str, str] | None = None, **options: Any
) -> PgsqlTarget:
    """Entry point ``ara_conformance.targets: pgsql``."""
    if database:
        options["database"] = database
    return PgsqlTarget(settings=settings, **options)
