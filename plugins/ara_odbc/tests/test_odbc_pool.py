"""The class pool's rules with injected connections (fault injection: no driver needed).

Asterisk's meaning of max_connections, cache_size and cache_type; sanitysql on reuse; the
negative cache; a connect that blocks is abandoned at connect_timeout and closed when it comes.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from ara_odbc.pool import OdbcPool
from ara_realtime import BackendError


class FakeCursor:
    def __init__(self, conn: FakeConn) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Any = ()) -> None:
        if self.conn.dead:
            raise OSError("connection is dead")
        self.conn.statements.append(sql)

    def fetchall(self) -> list[tuple[int]]:
        return [(1,)]

    def close(self) -> None:
        pass


class FakeConn:
    made = 0

    def __init__(self) -> None:
        FakeConn.made += 1
        self.number = FakeConn.made
        self.dead = False
        self.closed = False
        self.statements: list[str] = []

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def close(self) -> None:
        self.closed = True

    def rollback(self) -> None:
        pass


def _pool(**kw: Any) -> tuple[OdbcPool, list[FakeConn]]:
    made: list[FakeConn] = []

    def connect(login_timeout: int) -> FakeConn:
        conn = FakeConn()
        made.append(conn)
        return conn

    options: dict[str, Any] = {"max_connections": 2, "timeout": 0.3, "ping_after": None}
    options.update(kw)
    return OdbcPool(connect, "odbc class 't' (dsn x)", **options), made


def test_max_connections_bounds_and_times_out() -> None:
    pool, made = _pool(max_connections=2)
    a, b = pool.acquire(), pool.acquire()
    start = time.monotonic()
    with pytest.raises(BackendError, match=r"pool_timeout = 0\.3 s.*max_connections = 2"):
        pool.acquire()
    assert 0.25 < time.monotonic() - start < 1.5
    assert len(made) == 2
    assert pool.status().in_use == 2
    pool.release(a)
    assert pool.acquire() is a  # the idle one, no new connection
    pool.release(a)
    pool.release(b)


def test_a_waiter_gets_a_connection_released_meanwhile() -> None:
    pool, made = _pool(max_connections=1, timeout=5)
    held = pool.acquire()
    got: list[Any] = []
    t = threading.Thread(target=lambda: got.append(pool.acquire()))
    t.start()
    time.sleep(0.1)
    start = time.monotonic()
    pool.release(held)
    t.join(timeout=5)
    assert got and got[0].dbapi is held.dbapi  # the same connection, handed over
    assert time.monotonic() - start < 1
    assert len(made) == 1


def test_stack_and_queue_order() -> None:
    stack, _ = _pool(max_connections=3, lifo=True)
    conns = [stack.acquire() for _ in range(3)]
    for c in conns:
        stack.release(c)
    assert stack.acquire() is conns[-1]  # the most recently released
    queue, _ = _pool(max_connections=3, lifo=False)
    conns = [queue.acquire() for _ in range(3)]
    for c in conns:
        queue.release(c)
    assert queue.acquire() is conns[0]  # the longest idle


def test_cache_size_closes_the_longest_idle() -> None:
    pool, made = _pool(max_connections=3, cache_size=1)
    conns = [pool.acquire() for _ in range(3)]
    for c in conns:
        pool.release(c)
    assert [c.closed for c in made] == [True, True, False]
    assert pool.status().idle == 1
    none, made0 = _pool(max_connections=2, cache_size=0)
    c = none.acquire()
    none.release(c)
    assert made0[0].closed and none.status().idle == 0


def test_sanitysql_replaces_a_dead_idle_connection() -> None:
    pool, made = _pool(ping_after=0, sanitysql="select 42")
    c = pool.acquire()
    pool.release(c)
    again = pool.acquire()
    assert made[0].statements == ["select 42"]
    pool.release(again)
    made[0].dead = True
    fresh = pool.acquire()
    assert fresh.dbapi is made[1] and made[0].closed


def test_negative_connection_cache() -> None:
    attempts: list[float] = []

    def connect(login_timeout: int) -> Any:
        attempts.append(time.monotonic())
        raise OSError("refused")

    pool = OdbcPool(connect, "odbc class 't' (dsn x)", max_connections=1, negative_cache=0.3)
    with pytest.raises(BackendError, match="cannot connect: refused"):
        pool.acquire()
    with pytest.raises(BackendError, match=r"not connecting .*negative_connection_cache = 0\.3 s"):
        pool.acquire()
    assert len(attempts) == 1
    time.sleep(0.35)
    with pytest.raises(BackendError, match="cannot connect"):
        pool.acquire()
    assert len(attempts) == 2


def test_a_blocked_connect_is_abandoned_then_closed_when_it_returns() -> None:
    release = threading.Event()
    late: list[FakeConn] = []

    def connect(login_timeout: int) -> FakeConn:
        assert login_timeout == 1  # the ODBC login timeout, in whole seconds
        release.wait(10)
        conn = FakeConn()
        late.append(conn)
        return conn

    pool = OdbcPool(connect, "odbc class 't' (dsn x)", max_connections=1, connect_timeout=0.2)
    start = time.monotonic()
    with pytest.raises(BackendError, match=r"cannot connect within connect_timeout = 0\.2 s"):
        pool.acquire()
    assert time.monotonic() - start < 1
    # while that attempt is still blocked, no second thread piles up behind it
    start = time.monotonic()
    with pytest.raises(BackendError, match=r"1 attempt\(s\) still waiting for the server"):
        pool.acquire()
    assert time.monotonic() - start < 0.1
    release.set()
    deadline = time.monotonic() + 5
    while not (late and late[0].closed) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert late and late[0].closed  # nobody took it: closed
    assert pool.status().in_use == 0
