"""Fixtures for the mysql driver's tests: a Realtime on fresh tables, the back door."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import MySQLdb
import pytest

from ara_mysql.driver import quote
from ara_realtime import Realtime
from ara_realtime.plugins import Plugins
from ara_testservers import MariaDBServer
from ara_testservers.sqlcontract import PEER_COLUMNS

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def my_plugins() -> Plugins:
    return Plugins()


def _connect(s: MariaDBServer) -> Any:
    return MySQLdb.connect(
        host="127.0.0.1",
        port=s.port,
        user=s.user,
        password=s.password,
        database=s.database,
        charset="utf8mb4",
        autocommit=True,
    )


@pytest.fixture(scope="session")
def my_raw_conn(mariadb_server: MariaDBServer) -> Iterator[list[Any]]:
    """A connection beside the driver's (reopened after a server restart)."""
    holder: list[Any] = []
    yield holder
    for conn in holder:
        conn.close()


@pytest.fixture
def my_sql(
    mariadb_server: MariaDBServer, my_raw_conn: list[Any]
) -> Callable[..., list[tuple[Any, ...]]]:
    """Run SQL on the test database without the driver."""

    def once(sql: str, params: Any) -> list[tuple[Any, ...]]:
        if not my_raw_conn:
            my_raw_conn.append(_connect(mariadb_server))
        cur = my_raw_conn[0].cursor()
        try:
            cur.execute(sql, params)
            return list(cur.fetchall()) if cur.description else []
        finally:
            cur.close()

    def run(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        try:
            return once(sql, params)
        except MySQLdb.OperationalError:  # the server restarted under it
            my_raw_conn.clear()
            return once(sql, params)

    return run


@pytest.fixture
def my_tables(my_sql: Callable[..., Any]) -> Iterator[Callable[[str], str]]:
    """``new(base)`` -> a fresh table name, dropped after the test."""
    made: list[str] = []

    def new(base: str) -> str:
        name = f"t{next(_counter)}_{base}"
        made.append(name)
        return name

    yield new
    for name in made:
        my_sql(f"DROP TABLE IF EXISTS {quote(name)}")


@pytest.fixture(params=["mysqlclient", "pymysql"])
def dbapi(request: pytest.FixtureRequest) -> str:
    """Each test runs on both DB-API drivers."""
    return str(request.param)


@pytest.fixture
def make_rt(
    mariadb_server: MariaDBServer, my_plugins: Plugins, dbapi: str
) -> Iterator[Callable[..., Realtime]]:
    """``make_rt(mappings, **settings)`` -> a Realtime on the test server (closed afterwards)."""
    opened: list[Realtime] = []

    def make(mappings: dict[str, str], database: str = "ara", **settings: str) -> Realtime:
        rt = Realtime(
            mappings,
            {"mysql": {database: {**mariadb_server.settings(), "dbapi": dbapi, **settings}}},
            plugins=my_plugins,
        )
        opened.append(rt)
        return rt

    yield make
    for rt in opened:
        rt.close()


@pytest.fixture
def rt(make_rt: Callable[..., Realtime], my_tables: Callable[[str], str]) -> Realtime:
    peers, static = my_tables("peers"), my_tables("ast_config")
    r = make_rt(
        {"peers": f"mysql,ara,{peers}", "ast.conf": f"mysql,ara,{static}"},
        requirements="createclose",
    )
    assert r.require("peers", PEER_COLUMNS)
    r.peers_table = peers  # type: ignore[attr-defined]
    return r


@pytest.fixture
def raw(
    rt: Realtime, my_sql: Callable[..., list[tuple[Any, ...]]]
) -> Callable[[str], list[tuple[Any, ...]]]:
    table = quote(rt.peers_table)  # type: ignore[attr-defined]
    return lambda sql: my_sql(sql.format(peers=table))


# -- the names ara_testservers.sqlserver's shared tests ask for -------------------------------


@pytest.fixture
def sql_driver() -> str:
    return "mysql"


@pytest.fixture
def sql_server(mariadb_server: MariaDBServer) -> MariaDBServer:
    return mariadb_server


@pytest.fixture
def sql_tables(my_tables: Callable[[str], str]) -> Callable[[str], str]:
    return my_tables
