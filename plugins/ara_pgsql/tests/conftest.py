"""Fixtures for the pgsql driver's tests: a Realtime on fresh tables, the back door."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from ara_pgsql.driver import quote
from ara_realtime import Realtime
from ara_realtime.plugins import Plugins
from ara_testservers import PostgresServer
from ara_testservers.sqlcontract import PEER_COLUMNS

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_plugins() -> Plugins:
    return Plugins()


@pytest.fixture(scope="session")
def pg_raw_conn(pg_server: PostgresServer) -> Iterator[list[psycopg.Connection[Any]]]:
    """A connection beside the driver's (reopened after a server restart)."""
    holder: list[psycopg.Connection[Any]] = []
    yield holder
    for conn in holder:
        conn.close()


@pytest.fixture
def pg_sql(
    pg_server: PostgresServer, pg_raw_conn: list[psycopg.Connection[Any]]
) -> Callable[..., list[tuple[Any, ...]]]:
    """Run SQL on the test database without the driver."""

    def run(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        if not pg_raw_conn or pg_raw_conn[0].closed or pg_raw_conn[0].broken:
            pg_raw_conn[:] = [psycopg.connect(**_kwargs(pg_server), autocommit=True)]
        try:
            cur = pg_raw_conn[0].execute(sql, params)
        except psycopg.OperationalError:  # the server restarted under it
            pg_raw_conn[:] = [psycopg.connect(**_kwargs(pg_server), autocommit=True)]
            cur = pg_raw_conn[0].execute(sql, params)
        return cur.fetchall() if cur.description else []

    return run


def _kwargs(pg: PostgresServer) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": pg.port,
        "user": pg.user,
        "password": pg.password,
        "dbname": pg.database,
    }


@pytest.fixture
def pg_tables(pg_sql: Callable[..., Any]) -> Iterator[Callable[[str], str]]:
    """``new(base)`` -> a fresh table name, dropped after the test."""
    made: list[str] = []

    def new(base: str) -> str:
        name = f"t{next(_counter)}_{base}"
        made.append(name)
        return name

    yield new
    for name in made:
        pg_sql(f"DROP TABLE IF EXISTS {quote(name)}")


@pytest.fixture
def make_rt(pg_server: PostgresServer, pg_plugins: Plugins) -> Iterator[Callable[..., Realtime]]:
    """``make_rt(mappings, **settings)`` -> a Realtime on the test server (closed afterwards)."""
    opened: list[Realtime] = []

    def make(mappings: dict[str, str], database: str = "ara", **settings: str) -> Realtime:
        rt = Realtime(
            mappings,
            {"pgsql": {database: {**pg_server.settings(), **settings}}},
            plugins=pg_plugins,
        )
        opened.append(rt)
        return rt

    yield make
    for rt in opened:
        rt.close()


@pytest.fixture
def rt(make_rt: Callable[..., Realtime], pg_tables: Callable[[str], str]) -> Realtime:
    peers, static = pg_tables("peers"), pg_tables("ast_config")
    r = make_rt(
        {"peers": f"pgsql,ara,{peers}", "ast.conf": f"pgsql,ara,{static}"},
        requirements="createclose",
    )
    assert r.require("peers", PEER_COLUMNS)
    r.peers_table = peers  # type: ignore[attr-defined]
    return r


@pytest.fixture
def raw(
    rt: Realtime, pg_sql: Callable[..., list[tuple[Any, ...]]]
) -> Callable[[str], list[tuple[Any, ...]]]:
    table = quote(rt.peers_table)  # type: ignore[attr-defined]
    return lambda sql: pg_sql(sql.format(peers=table))


# -- the names ara_testservers.sqlserver's shared tests ask for -------------------------------


@pytest.fixture
def sql_driver() -> str:
    return "pgsql"


@pytest.fixture
def sql_server(pg_server: PostgresServer) -> PostgresServer:
    return pg_server


@pytest.fixture
def sql_tables(pg_tables: Callable[[str], str]) -> Callable[[str], str]:
    return pg_tables
