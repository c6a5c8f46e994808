"""The SQL base runs a statement again after a conflict or a refusal, within bounds.

A scripted DB-API stands in for the server (fault injection only): each ``execute`` takes the
next outcome of the script. ``conflict``: the server rolled the statement back for another
transaction (nothing applied, the connection sound); ``refused``: the server refused to run
it on this connection (nothing applied); ``lost``: the connection broke (outcome unknown);
``unknown``: the server failed the commit without saying whether it took effect (MySQL 1180 on
a Galera node leaving the primary component).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import pytest

from ara_realtime import BackendError
from ara_realtime.sql import Dialect
from ara_realtime.sql.base import ONE, ROWCOUNT, DBAPIConnection, ErrorKind
from ara_realtime.sql.deadline import watchdog
from ara_realtime.sql.pool import BoundedPool, PoolExhausted


class ScriptedError(Exception):
    """An error of the scripted DB-API; ``args[0]`` is its kind."""


class Server:
    """What every connection of the scripted DB-API shares: the script and the counts."""

    def __init__(self, script: Sequence[str], delay: float = 0.0) -> None:
        self.script = list(script)
        self.delay = delay
        self.connects = 0
        self.closed = 0
        self.statements = 0


class Cursor:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.rowcount = -1

    def execute(self, sql: str, params: Sequence[object]) -> None:
        self.server.statements += 1
        time.sleep(self.server.delay)
        outcome = self.server.script.pop(0) if self.server.script else "ok"
        if outcome != "ok":
            raise ScriptedError(outcome)
        self.rowcount = 1

    def fetchone(self) -> tuple[str]:
        return ("answer",)


class DBAPI:
    def __init__(self, server: Server) -> None:
        self.server = server
        server.connects += 1

    def cursor(self) -> Cursor:
        return Cursor(self.server)

    def close(self) -> None:
        self.server.closed += 1


class Scripted(DBAPIConnection):
    driver = "scripted"

    def classify(self, exc: BaseException) -> ErrorKind | None:
        if isinstance(exc, ScriptedError):
            kind: ErrorKind = exc.args[0]
            return kind
        return None


def connection(server: Server, *, retries: int, timeout: float = 5.0) -> Scripted:
    pool = BoundedPool(
        lambda: DBAPI(server),
        "scripted db",
        size=2,
        overflow=0,
        timeout=1.0,
        watch=lambda dbapi: watchdog().watch(None, timeout),
    )
    conn = Scripted(
        "db", "scripted db", dialect=Dialect(quote=str), codec=False, mode="warn", reader=pool
    )
    conn.conflict_retries = retries
    return conn


def write(conn: Scripted) -> Any:
    return conn._run(conn.writer, "UPDATE t", (), ROWCOUNT, ("t", "fam"), retry=False)


def read(conn: Scripted) -> Any:
    return conn._run(conn.reader, "SELECT", (), ONE, ("t", "fam"), retry=True)


def test_a_write_rolled_back_for_a_conflict_runs_again_on_the_same_connection() -> None:
    server = Server(["conflict", "conflict"])
    assert write(connection(server, retries=3)) == 1
    assert server.statements == 3
    assert (server.connects, server.closed) == (1, 0)  # the connection stayed sound


def test_conflicts_beyond_the_retries_are_a_backend_error_saying_so() -> None:
    server = Server(["conflict"] * 10)
    conn = connection(server, retries=2)
    with pytest.raises(BackendError, match=r"conflicting transaction; 3 attempts"):
        write(conn)
    assert server.statements == 3
    assert server.closed == 0
    assert conn.reader.status().in_use == 0


def test_no_retry_when_conflict_retries_is_zero() -> None:
    server = Server(["conflict", "ok"])
    with pytest.raises(BackendError, match=r"conflicting transaction; 1 attempt\)"):
        write(connection(server, retries=0))
    assert server.statements == 1


def test_retries_after_conflicts_stay_within_the_calls_deadline() -> None:
    # each attempt takes 0.2 s and conflicts; the call has 0.5 s in all: the third attempt
    # gets what is left and runs out of it (or is not started)
    server = Server(["conflict"] * 20, delay=0.2)
    conn = connection(server, retries=20, timeout=0.5)
    start = time.monotonic()
    with pytest.raises(BackendError, match="conflicting transaction|no answer within"):
        write(conn)
    assert time.monotonic() - start < 0.5 + 0.2
    assert 2 <= server.statements <= 3


def test_a_refused_write_runs_once_more_on_a_new_connection() -> None:
    server = Server(["refused"])
    assert write(connection(server, retries=0)) == 1
    assert server.statements == 2
    assert (server.connects, server.closed) == (2, 1)  # the refusing connection is gone


def test_a_statement_refused_twice_fails_as_refused() -> None:
    server = Server(["refused", "refused", "ok"])
    with pytest.raises(BackendError, match="statement refused"):
        write(connection(server, retries=3))
    assert server.statements == 2


def test_a_read_gets_one_second_chance_in_all() -> None:
    # refused, then lost on the new connection: the refusal took the read's retry
    server = Server(["refused", "lost", "ok"])
    with pytest.raises(BackendError, match="connection lost"):
        read(connection(server, retries=3))
    assert server.statements == 2
    # lost, then refused: likewise
    server = Server(["lost", "refused", "ok"])
    with pytest.raises(BackendError, match="statement refused"):
        read(connection(server, retries=3))
    assert server.statements == 2


def test_a_lost_write_is_never_run_again() -> None:
    server = Server(["lost", "ok"])
    with pytest.raises(BackendError, match="connection lost"):
        write(connection(server, retries=3))
    assert server.statements == 1


def test_a_write_whose_commit_outcome_is_unknown_is_never_run_again() -> None:
    """It may have been applied (a Galera writeset delivered to the primary component before
    the node left it): running a ``store`` again could add the row twice."""
    server = Server(["unknown", "ok"])
    conn = connection(server, retries=3)
    with pytest.raises(BackendError, match="outcome is unknown") as info:
        write(conn)
    assert "it may have been applied" in str(info.value)
    assert server.statements == 1
    assert server.closed == 1  # the connection is not trusted again
    assert write(conn) == 1  # the next call takes a new connection
    assert server.connects == 2


def test_a_read_whose_commit_failed_runs_once_more() -> None:
    server = Server(["unknown"])
    assert read(connection(server, retries=3)) == ("answer",)
    assert server.statements == 2
    server = Server(["unknown", "unknown", "ok"])
    with pytest.raises(BackendError, match="outcome is unknown"):
        read(connection(server, retries=3))
    assert server.statements == 2


def test_a_read_conflict_runs_again_too() -> None:
    server = Server(["conflict"])
    assert read(connection(server, retries=1)) == ("answer",)
    assert server.statements == 2


def test_an_exhausted_pool_says_so_by_its_type() -> None:
    """A driver choosing between servers must not leave one whose pool is only busy."""
    server = Server([])
    pool = BoundedPool(lambda: DBAPI(server), "scripted db", size=1, overflow=0, timeout=0.05)
    held = pool.acquire()
    with pytest.raises(PoolExhausted, match="no connection free within pool_timeout"):
        pool.acquire()
    pool.release(held)
