"""Every call ends within its bound on a stalled MariaDB server, with mysqlclient and with
PyMySQL; the timeout settings (see ara_testservers.sqltimeouts for the shared tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import MySQLdb
import pytest

from ara_mysql.config import read_config
from ara_realtime import ConfigError
from ara_testservers import MariaDBServer
from ara_testservers.sqltimeouts import *  # noqa: F403
from ara_testservers.sqltimeouts import Target


@pytest.fixture
def timeout_target(mariadb_server: MariaDBServer, dbapi: str) -> Target:
    @contextlib.contextmanager
    def lock(table: str) -> Iterator[None]:
        s = mariadb_server.settings()
        conn = MySQLdb.connect(
            host=s["dbhost"],
            port=int(s["dbport"]),
            user=s["dbuser"],
            password=s["dbpass"],
            database=s["dbname"],
        )
        with contextlib.closing(conn):
            conn.cursor().execute(f"LOCK TABLES `{table}` WRITE")
            yield
            conn.cursor().execute("UNLOCK TABLES")

    return Target(
        "mysql",
        mariadb_server,
        {**mariadb_server.settings(), "dbapi": dbapi},
        "dbhost",
        "dbport",
        greeting_in_connect_timeout=dbapi != "pymysql",
        lock=lock,
    )


def test_timeouts_have_defaults() -> None:
    spec = read_config("x", {"dbhost": "h"}, None)
    assert (spec.settings.connect_timeout, spec.settings.query_timeout) == (5, 3.0)
    assert spec.settings.pool_timeout == 5.0
    args = spec.connect_args
    assert (args["connect_timeout"], args["read_timeout"], args["write_timeout"]) == (5, 3, 3)


@pytest.mark.parametrize(("dbapi", "read_timeout"), [("mysqlclient", 2), ("pymysql", 1.5)])
def test_the_dbapis_own_timeouts_back_query_timeout(dbapi: str, read_timeout: float) -> None:
    spec = read_config("x", {"dbhost": "h", "dbapi": dbapi, "query_timeout": "1.5"}, None)
    assert spec.connect_args["read_timeout"] == spec.connect_args["write_timeout"] == read_timeout


def test_timeouts_are_read_per_section(tmp_path: Path) -> None:
    (tmp_path / "res_config_mysql.conf").write_text(
        "[r]\ndbhost = h\nquery_timeout = 1\n[w]\ndbhost = h\nquery_timeout = 9\n"
    )
    spec = read_config("r/w", {}, tmp_path)
    assert spec.settings.query_timeout == 1.0
    assert spec.write is not None and spec.write.settings.query_timeout == 9.0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"query_timeout": "0.01"}, "query_timeout must be at least 0.1"),
        ({"query_timeout": "-inf"}, "query_timeout must be a number"),
        ({"connect_timeout": "0"}, "connect_timeout must be at least 1"),
        ({"url": "mysql://u@h/d?read_timeout=3"}, "read_timeout in the url"),
    ],
)
def test_bad_timeouts_are_config_errors(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read_config("x", {"dbhost": "h", **settings}, None)
