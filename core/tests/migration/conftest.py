"""Schema and migration tests: throwaway PostgreSQL and MariaDB servers (one each per test
session, started by the first test that needs one; the drivers' own tests under plugins/
start theirs), and a fresh database of each driver per test."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ara_realtime import Realtime
from ara_testservers import MariaDBServer, PostgresServer
from ara_testservers.fixtures import mariadb_server, pg_server

__all__ = ["DB", "Backend", "mariadb_server", "pg_server"]

#: extconfig database name of every backend these tests map.
DB = "asterisk"


@dataclass
class Backend:
    """A fresh database of one driver, and an Asterisk configuration directory reaching it."""

    driver: str
    dir: Path
    #: runs SQL in that database, behind the driver's back
    sql: Callable[[str], Any]
    opened: list[Realtime] = field(default_factory=list)

    def realtime(self, extconfig: str) -> Realtime:
        """A Realtime on this directory with ``extconfig`` (``DRIVER`` stands for the driver)."""
        text = "[settings]\n" + extconfig.replace("DRIVER", self.driver)
        (self.dir / "extconfig.conf").write_text(text)
        rt = Realtime.from_config_dir(self.dir)
        self.opened.append(rt)
        return rt


@pytest.fixture(params=["sqlite3", "pgsql", "mysql"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


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
