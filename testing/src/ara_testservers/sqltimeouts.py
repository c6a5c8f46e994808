"""Every call of an SQL driver ends within its bound on a stalled server (shared tests).

A driver's test module runs these with ``from ara_testservers.sqltimeouts import *`` and
provides a fixture ``timeout_target`` returning a :class:`Target`. The server is frozen
(SIGSTOP to every process: the kernel still accepts connections and acknowledges packets,
nothing answers), or a client connects to a :class:`~ara_testservers.faults.Blackhole`, or
the network path to the server is cut (:class:`~ara_testservers.faults.NetPath`). Bounds are
asserted from above only, with 3 s to spare for a loaded machine.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ara_realtime import BackendError, Realtime
from ara_realtime.sql.deadline import TimedOut

from .faults import Blackhole, NetPath, require_netns
from .servers import Server

__all__ = [
    "Target",
    "target",
    "test_a_cut_network_path_is_bounded",
    "test_a_statement_waiting_for_a_lock_ends_within_query_timeout",
    "test_calls_on_a_frozen_server_end_within_query_timeout",
    "test_connect_to_a_silent_listener_ends_within_connect_timeout",
    "test_failover_to_the_next_priority_while_frozen",
    "test_first_use_of_a_table_on_a_frozen_server_is_bounded",
    "test_pool_wait_is_bounded_while_calls_hang",
    "test_require_ddl_waiting_for_a_lock_is_bounded",
]

#: What a loaded 2-core CI machine may add to a bound.
SLACK = 3.0
QUERY_TIMEOUT = 1.0
CONNECT_TIMEOUT = 2  # libpq's minimum


@dataclass
class Target:
    """How a driver's tests reach their server."""

    driver: str  # "pgsql", "mysql"
    server: Server
    #: settings reaching the server (and choosing the DB-API, for mysql)
    settings: dict[str, str]
    host_key: str
    port_key: str
    #: False if the DB-API reads the server's greeting under query_timeout (PyMySQL)
    greeting_in_connect_timeout: bool = True
    #: ``lock(table)``: a context holding a lock that makes reads and DDL on it wait
    lock: Callable[[str], AbstractContextManager[None]] | None = None
    opened: list[Realtime] = field(default_factory=list)

    def realtime(
        self,
        mappings: dict[str, Any],
        *,
        host: str | None = None,
        port: int | None = None,
        spare: dict[str, str] | None = None,
        backoff: float = 0.05,
        **settings: str,
    ) -> Realtime:
        """A Realtime on database ``ara`` of the server (closed by the fixture)."""
        s = {
            **self.settings,
            "requirements": "createclose",
            "query_timeout": f"{QUERY_TIMEOUT:g}",
            "connect_timeout": str(CONNECT_TIMEOUT),
            **settings,
        }
        if host is not None:
            s[self.host_key] = host
        if port is not None:
            s[self.port_key] = str(port)
        drivers: dict[str, dict[str, dict[str, str]]] = {self.driver: {"ara": s}}
        if spare is not None:
            drivers["sqlite3"] = {"spare": spare}
        rt = Realtime(mappings, drivers, backoff=backoff, max_backoff=backoff)
        self.opened.append(rt)
        return rt

    def close(self) -> None:
        for rt in self.opened:
            rt.close()


_COLUMNS = {"name": ("char", 40), "host": ("char", 40), "port": ("uinteger2", 5)}
_counter = iter(range(1, 1_000_000))


def _table() -> str:
    return f"tmo{os.getpid()}_{next(_counter)}"


@pytest.fixture
def target(timeout_target: Target) -> Iterator[Target]:
    yield timeout_target
    timeout_target.close()


def _connection(rt: Realtime, driver: str) -> Any:
    return rt._backends[(driver, "ara")].connection


def _warm(rt: Realtime, driver: str, n: int) -> None:
    """Open ``n`` pooled connections now (a frozen server accepts no new ones)."""
    pool = _connection(rt, driver).reader
    held = [pool.acquire() for _ in range(n)]
    for conn in held:
        pool.release(conn)


def _timed(call: Callable[[], object]) -> tuple[float, BaseException | None]:
    start = time.monotonic()
    try:
        call()
    except BaseException as exc:
        return time.monotonic() - start, exc
    return time.monotonic() - start, None


def _peers(target: Target) -> tuple[Realtime, str]:
    table = _table()
    rt = target.realtime({"peers": f"{target.driver},ara,{table}"})
    assert rt.require("peers", _COLUMNS)
    for i in range(3):
        rt.store("peers", {"name": f"p{i}", "host": "h", "port": str(i)})
    return rt, table


def test_calls_on_a_frozen_server_end_within_query_timeout(
    target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    rt, _ = _peers(target)
    _warm(rt, target.driver, 6)
    calls: dict[str, Callable[[], object]] = {
        "load": lambda: rt.load("peers", name="p1"),
        "load_multi": lambda: rt.load_multi("peers", host="h"),
        "update": lambda: rt.update("peers", "name", "p1", {"port": "9"}),
        "store": lambda: rt.store("peers", {"name": "new"}),
        "destroy": lambda: rt.destroy("peers", "name", "p2"),
    }
    caplog.set_level(logging.INFO, logger="ara_realtime")
    with target.server.frozen():
        for op, call in calls.items():
            spent, exc = _timed(call)
            assert isinstance(exc, BackendError), (op, exc)
            assert "no answer within query_timeout = 1 s" in str(exc), (op, exc)
            assert isinstance(exc.failures[0][1], TimedOut)
            assert spent < QUERY_TIMEOUT + SLACK, (op, spent)
    assert "retrying the read" not in caplog.text  # a call out of time is never retried
    pool = _connection(rt, target.driver).reader
    assert not any(conn.watch.shot for conn in pool._idle)  # cut connections were thrown away
    # A write that timed out may still be applied when the server resumes (it had the
    # statement), at any moment now: its outcome is unknown, as the documentation says.
    assert rt.load("peers", name="p1") in (
        {"name": "p1", "host": "h", "port": "1"},
        {"name": "p1", "host": "h", "port": "9"},
    )
    assert rt.update("peers", "name", "p0", {"port": "7"}) == 1  # a row no cut write touched
    assert rt.load("peers", name="p0") == {"name": "p0", "host": "h", "port": "7"}
    assert {"p0", "p1"} <= {r["name"] for r in rt.load_multi("peers", host="h")}


def test_first_use_of_a_table_on_a_frozen_server_is_bounded(target: Target) -> None:
    rt, _ = _peers(target)
    _warm(rt, target.driver, 2)
    rt.unload("peers")  # the next call reads the table's columns again
    with target.server.frozen():
        spent, exc = _timed(lambda: rt.load("peers", name="p1"))
    assert isinstance(exc, BackendError), exc
    assert "no answer within query_timeout = 1 s" in str(exc)
    assert spent < QUERY_TIMEOUT + SLACK
    assert rt.load("peers", name="p1") == {"name": "p1", "host": "h", "port": "1"}


def test_failover_to_the_next_priority_while_frozen(target: Target, tmp_path: Path) -> None:
    table = _table()
    spare = tmp_path / "spare.db"
    with sqlite3.connect(spare) as db:
        db.execute("CREATE TABLE peers (name TEXT, host TEXT, port TEXT)")
        db.execute("INSERT INTO peers VALUES ('p1', 'spare', '5')")
    db.close()
    rt = target.realtime(
        {"peers": [f"{target.driver},ara,{table},1", "sqlite3,spare,peers,2"]},
        spare={"dbfile": str(spare)},
        backoff=60,  # while it rests, calls go to the spare at once
    )
    assert rt.require("peers", _COLUMNS)
    rt.store("peers", {"name": "p1", "host": "primary", "port": "1"})
    _warm(rt, target.driver, 4)
    with target.server.frozen():
        spent, exc = _timed(lambda: rt.load("peers", name="p1"))
        assert exc is None, exc
        assert spent < QUERY_TIMEOUT + SLACK
        assert rt.load("peers", name="p1") == {"name": "p1", "host": "spare", "port": "5"}
        assert rt.store("peers", {"name": "p9", "host": "spare"}) == 1
    rt._backends[(target.driver, "ara")].failed_until = 0  # end the back-off
    assert rt.load("peers", name="p1") == {"name": "p1", "host": "primary", "port": "1"}
    assert rt.load("peers", name="p9") is None  # written to the spare only


def test_connect_to_a_silent_listener_ends_within_connect_timeout(target: Target) -> None:
    with Blackhole() as hole:
        rt = target.realtime(
            {"peers": f"{target.driver},ara,peers"}, host=hole.host, port=hole.port
        )
        spent, exc = _timed(lambda: rt.load("peers", name="p1"))
    assert isinstance(exc, BackendError), exc
    if target.greeting_in_connect_timeout:
        assert f"cannot connect: no answer within connect_timeout = {CONNECT_TIMEOUT} s" in str(exc)
        assert spent < CONNECT_TIMEOUT + SLACK
    else:  # the greeting is read under query_timeout (shorter here), by the library itself
        assert "timed out" in str(exc)
        assert spent < QUERY_TIMEOUT + SLACK


def test_pool_wait_is_bounded_while_calls_hang(target: Target) -> None:
    table = _table()
    rt = target.realtime(
        {"peers": f"{target.driver},ara,{table}"},
        pool_size="1",
        pool_overflow="0",
        pool_timeout="0.5",
        query_timeout="3",
    )
    assert rt.require("peers", _COLUMNS)
    assert rt.load("peers", name="x") is None
    pool = _connection(rt, target.driver).reader
    results: list[tuple[float, BaseException | None]] = []
    with target.server.frozen():
        stuck = threading.Thread(
            target=lambda: results.append(_timed(lambda: rt.load("peers", name="x")))
        )
        stuck.start()
        deadline = time.monotonic() + 5
        while pool._idle and time.monotonic() < deadline:  # until the thread holds it
            time.sleep(0.01)
        spent, exc = _timed(lambda: rt.load("peers", name="x"))
        stuck.join(timeout=3 + SLACK)
    assert isinstance(exc, BackendError), exc
    assert "pool_timeout = 0.5 s" in str(exc)
    assert spent < 0.5 + SLACK
    [(stuck_spent, stuck_exc)] = results
    assert isinstance(stuck_exc, BackendError), stuck_exc
    assert "no answer within query_timeout = 3 s" in str(stuck_exc)
    assert stuck_spent < 3 + SLACK
    assert rt.load("peers", name="x") is None


def test_a_cut_network_path_is_bounded(target: Target) -> None:
    require_netns("the network-path test")
    with NetPath(target.server.port) as path:
        table = _table()
        rt = target.realtime(
            {"peers": f"{target.driver},ara,{table}"}, host=path.host, port=path.port
        )
        assert rt.require("peers", _COLUMNS)
        rt.store("peers", {"name": "p1", "host": "h"})
        _warm(rt, target.driver, 2)
        with path.down():
            spent, exc = _timed(lambda: rt.load("peers", name="p1"))
            assert isinstance(exc, BackendError), exc
            assert "no answer within query_timeout = 1 s" in str(exc)
            assert spent < QUERY_TIMEOUT + SLACK
            _connection(rt, target.driver).drop_connections()  # the next call connects anew
            spent, exc = _timed(lambda: rt.load("peers", name="p1"))
            assert isinstance(exc, BackendError), exc
            assert f"cannot connect: no answer within connect_timeout = {CONNECT_TIMEOUT} s" in str(
                exc
            )
            assert spent < CONNECT_TIMEOUT + SLACK
        time.sleep(0.1)  # the back-off is over
        assert rt.load("peers", name="p1") == {"name": "p1", "host": "h"}


def test_a_statement_waiting_for_a_lock_ends_within_query_timeout(target: Target) -> None:
    """The server answers, but the statement waits: the bound holds on a live server too."""
    assert target.lock is not None
    rt, table = _peers(target)
    with target.lock(table):
        for call in (  # reads only: a write cut here would still run once the lock is gone
            lambda: rt.load("peers", name="p1"),
            lambda: rt.load_multi("peers", host="h"),
        ):
            spent, exc = _timed(call)
            assert isinstance(exc, BackendError), exc
            assert "no answer within query_timeout = 1 s" in str(exc)
            assert spent < QUERY_TIMEOUT + SLACK
    assert rt.update("peers", "name", "p1", {"port": "7"}) == 1
    assert rt.load("peers", name="p1") == {"name": "p1", "host": "h", "port": "7"}


def test_require_ddl_waiting_for_a_lock_is_bounded(target: Target) -> None:
    """An ``ALTER TABLE`` queued behind a lock would make every later query of the table
    queue behind it (PostgreSQL): it gets query_timeout like any call."""
    assert target.lock is not None
    rt, table = _peers(target)
    with target.lock(table):
        spent, exc = _timed(lambda: rt.require("peers", {"extra": ("char", 10)}))
    assert isinstance(exc, BackendError), exc
    assert "no answer within query_timeout = 1 s" in str(exc)
    assert spent < QUERY_TIMEOUT + SLACK
    assert rt.require("peers", {"extra": ("char", 10)})
    assert rt.load("peers", name="p1") == {"name": "p1", "host": "h", "port": "1"}
