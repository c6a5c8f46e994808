"""Schema and migration tests: throwaway PostgreSQL and MariaDB servers (one each per test
session, started by the first test that needs one; the drivers' own tests under plugins/
start theirs), and a fresh database of each driver per test."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ara_realtime import Realtime
from ara_realtime.schema.ddl import render
from ara_realtime.schema.live import create
from ara_testservers import MariaDBServer, PostgresServer
from ara_testservers.fixtures import mariadb_server, pg_server
from ara_testservers.servers import ServerError
from ara_testservers.slapd import SlapdServer

__all__ = ["DB", "Backend", "mariadb_server", "pg_server", "slapd"]

#: extconfig database name of every backend these tests map.
DB = "asterisk"


@dataclass
class Backend:
    """A fresh database of one driver, and an Asterisk configuration directory reaching it."""

    driver: str
    dir: Path
    #: runs SQL in that database, behind the driver's back (not for ldap)
    sql: Callable[[str], Any]
    #: the extconfig database field reaching it
    database: str = DB
    opened: list[Realtime] = field(default_factory=list)

    def realtime(self, extconfig: str) -> Realtime:
        """A Realtime on this directory with ``extconfig``, where ``DRIVER,asterisk`` stands
        for this backend's driver and database."""
        text = "[settings]\n" + extconfig.replace(f"DRIVER,{DB}", f"{self.driver},{self.database}")
        (self.dir / "extconfig.conf").write_text(text)
        rt = Realtime.from_config_dir(self.dir)
        self.opened.append(rt)
        return rt

    def setting(self, key: str, value: str) -> None:
        """Add ``key = value`` to this database's section of the driver's settings file
        (pgsql, mysql; before :meth:`realtime`)."""
        file = {"pgsql": "res_pgsql.conf", "mysql": "res_config_mysql.conf"}[self.driver]
        with (self.dir / file).open("a") as f:  # the file's one section is this database's
            f.write(f"{key} = {value}\n")

    def create(self, rt: Realtime, families: Sequence[str]) -> None:
        """The families' tables: ``realtime schema --create`` on SQL; on ldap the schema the
        directory was started with and the ``res_ldap.conf`` sections are the tables."""
        if self.driver != "ldap":
            create(rt, families)


@pytest.fixture(params=["sqlite3", "pgsql", "mysql", "ldap"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class _Slapd(SlapdServer):
    """A slapd that does not wait for the disk on every write (a throwaway server)."""

    def _slapd_conf(self) -> str:
        return super()._slapd_conf().replace("database mdb\n", "database mdb\ndbnosync\n")


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlapdServer]:
    """slapd with every family's table as schema (``realtime schema --dialect ldap``)."""
    schema = tmp_path_factory.mktemp("ldap-schema") / "ara-asterisk-tables.ldif"
    schema.write_text(render([], "ldap"))
    server = _Slapd(ldif_schemas=[schema])
    try:
        server.start()
    except ServerError as exc:
        server.close()
        pytest.fail(f"cannot start slapd for the migration tests: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.close()


_numbers = itertools.count(1)


@pytest.fixture
def backend(request: pytest.FixtureRequest, driver: str, tmp_path: Path) -> Iterator[Backend]:
    name = f"t_{tmp_path.name}".lower().replace("-", "_")
    name = "".join(c for c in name if c.isalnum() or c == "_")[:60]
    drop: Callable[[], Any] | None = None
    if driver == "sqlite3":
        (tmp_path / "res_config_sqlite3.conf").write_text(f"[{DB}]\ndbfile = pbx.db\n")

        def run(sql: str) -> Any:
            conn = sqlite3.connect(tmp_path / "pbx.db")
            try:
                return conn.executescript(sql).fetchall()
            finally:
                conn.close()

    elif driver == "pgsql":
        pg: PostgresServer = request.getfixturevalue("pg_server")
        pg.psql(f"CREATE DATABASE {name} OWNER {pg.user}")
        (tmp_path / "res_pgsql.conf").write_text(
            "[general]\n" + "".join(f"{k} = {v}\n" for k, v in pg.settings(name).items())
        )

        def run(sql: str) -> Any:
            return pg.psql(sql, database=name)

        def drop() -> Any:
            return pg.psql(f"DROP DATABASE {name} WITH (FORCE)")

    elif driver == "ldap":
        import ldap3

        ldap: SlapdServer = request.getfixturevalue("slapd")
        base = f"ou=t{next(_numbers)},{ldap.suffix}"
        admin = ldap3.Connection(
            ldap3.Server(ldap.url(), get_info=ldap3.NONE),
            ldap.root_dn,
            ldap.password,
            auto_bind=True,
            raise_exceptions=True,
        )
        ou = {"ou": base.split(",", maxsplit=1)[0][3:]}
        admin.add(base, ["organizationalUnit"], ou)  # type: ignore[no-untyped-call]
        general = "".join(f"{k} = {v}\n" for k, v in ldap.settings().items())
        (tmp_path / "res_ldap.conf").write_text(f"[_general]\n{general}\n" + render([], "res_ldap"))

        def run(sql: str) -> Any:
            raise AssertionError("no SQL on ldap")

        def drop() -> Any:
            while True:  # a page of rows at a time, until none is left
                admin.search(base, "(objectClass=*)", ldap3.LEVEL, attributes=[], paged_size=500)
                found = admin.response or []
                rows = [e["dn"] for e in found if e.get("type") == "searchResEntry"]
                if not rows:
                    break
                for dn in rows:
                    admin.delete(dn)  # type: ignore[no-untyped-call]
            admin.delete(base)  # type: ignore[no-untyped-call]
            admin.unbind()

        b = Backend(driver, tmp_path, run, database=f'"{base}"')
        yield b
        for rt in b.opened:
            rt.close()
        drop()
        return
    else:
        my: MariaDBServer = request.getfixturevalue("mariadb_server")
        my.sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        (tmp_path / "res_config_mysql.conf").write_text(
            f"[{DB}]\n" + "".join(f"{k} = {v}\n" for k, v in my.settings(name).items())
        )

        def run(sql: str) -> Any:
            return my.sql(sql, database=name)

        def drop() -> Any:
            return my.sql(f"DROP DATABASE {name}")

    b = Backend(driver, tmp_path, run)
    yield b
    for rt in b.opened:
        rt.close()
    if drop is not None:
        drop()
