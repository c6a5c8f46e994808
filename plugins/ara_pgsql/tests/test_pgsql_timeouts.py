"""Every call ends within its bound on a stalled PostgreSQL server; the timeout settings
(see ara_testservers.sqltimeouts for the shared tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ara_pgsql.config import read_config
from ara_realtime import ConfigError
from ara_testservers import PostgresServer
from ara_testservers.sqltimeouts import *  # noqa: F403
from ara_testservers.sqltimeouts import Target


@pytest.fixture
def timeout_target(pg_server: PostgresServer) -> Target:
    @contextlib.contextmanager
    def lock(table: str) -> Iterator[None]:
        s = pg_server.settings()
        with psycopg.connect(
            host=s["hostname"],
            port=s["port"],
            user=s["user"],
            password=s["password"],
            dbname=s["dbname"],
        ) as conn:  # a transaction holds the lock until the rollback
            conn.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
            yield
            conn.rollback()

    return Target("pgsql", pg_server, pg_server.settings(), "hostname", "port", lock=lock)


def test_timeouts_have_defaults() -> None:
    spec = read_config("x", {}, None)
    assert (spec.settings.connect_timeout, spec.settings.query_timeout) == (5, 3.0)
    assert spec.settings.pool_timeout == 5.0
    assert spec.connect_args["connect_timeout"] == "5"


def test_timeouts_are_read_from_the_file(tmp_path: Path) -> None:
    (tmp_path / "res_pgsql.conf").write_text(
        "[general]\nconnect_timeout = 2\nquery_timeout = 0.5\npool_timeout = 1\n"
    )
    spec = read_config("general", {}, tmp_path)
    assert (spec.settings.connect_timeout, spec.settings.query_timeout) == (2, 0.5)
    assert spec.connect_args["connect_timeout"] == "2"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"query_timeout": "0"}, "query_timeout must be at least 0.1"),
        ({"query_timeout": "off"}, "query_timeout must be a number"),
        ({"query_timeout": "inf"}, "query_timeout must be a number"),
        ({"query_timeout": "nan"}, "query_timeout must be a number"),
        ({"connect_timeout": "1.5"}, "connect_timeout must be a whole number"),
        ({"connect_timeout": "1"}, "connect_timeout must be at least 2 for PostgreSQL"),
        ({"url": "postgresql://u@h/d?connect_timeout=3"}, "connect_timeout with its own key"),
    ],
)
def test_bad_timeouts_are_config_errors(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read_config("x", settings, None)
