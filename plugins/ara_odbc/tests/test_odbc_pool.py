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

    def connect(target: int, login_timeout: int) -> FakeConn:
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

    def connect(target: int, login_timeout: int) -> Any:
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

    def connect(target: int, login_timeout: int) -> FakeConn:
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


# -- several DSNs ------------------------------------------------------------------------------


def _targets(down: set[int], **kw: Any) -> tuple[OdbcPool, list[int]]:
    """A pool over DSNs a, b, c; connecting to one in ``down`` fails."""
    tried: list[int] = []

    def connect(target: int, login_timeout: int) -> FakeConn:
        tried.append(target)
        if target in down:
            raise OSError(f"refused by {'abc'[target]}")
        return FakeConn()

    options: dict[str, Any] = {"max_connections": 3, "timeout": 0.3, "ping_after": None}
    options.update(kw)
    pool = OdbcPool(
        connect, "odbc class 't' (dsn a, dsn b, dsn c)", targets=["a", "b", "c"], **options
    )
    return pool, tried


def test_dsns_are_tried_in_order_and_the_one_that_worked_is_kept() -> None:
    down = {0}
    pool, tried = _targets(down)
    first = pool.acquire()
    assert tried == [0, 1] and pool.current == 1
    assert first.target == 1
    down.clear()  # a is back: new connections stay with b, which works
    second = pool.acquire()
    assert tried == [0, 1, 1] and second.target == 1
    pool.release(first)
    pool.release(second)


def test_every_dsn_failing_names_each_one() -> None:
    pool, tried = _targets({0, 1, 2}, negative_cache=5)
    with pytest.raises(BackendError) as info:
        pool.acquire()
    assert str(info.value) == (
        "odbc class 't' (dsn a, dsn b, dsn c): no DSN answered: a: cannot connect: refused by "
        "a; b: cannot connect: refused by b; c: cannot connect: refused by c"
    )
    assert tried == [0, 1, 2]
    with pytest.raises(BackendError, match="negative_connection_cache"):  # after all of them
        pool.acquire()
    assert tried == [0, 1, 2]


def test_a_dsn_refusing_writes_is_tried_last() -> None:
    pool, tried = _targets(set())
    conn, older = pool.acquire(), pool.acquire()
    assert pool.current == 0 and conn.target == older.target == 0
    pool.avoid(conn)  # the driver found it read-only
    pool.discard(conn)
    assert pool.current == 1
    again = pool.acquire()
    assert again.target == 1 and tried == [0, 0, 1]
    pool.avoid(older)  # another connection to a: changes nothing now
    assert pool.current == 1
    pool.discard(older)
    pool.release(again)


def test_a_stalled_dsn_does_not_block_the_next_one() -> None:
    """With max_connections = 1 (Asterisk's default), an attempt stuck in the first DSN's
    driver must not stop the class from reaching the second."""
    release = threading.Event()

    def connect(target: int, login_timeout: int) -> FakeConn:
        if target == 0:
            release.wait(10)
        return FakeConn()

    pool = OdbcPool(
        connect,
        "odbc class 't' (dsn a, dsn b)",
        targets=["a", "b"],
        max_connections=1,
        connect_timeout=0.2,
        ping_after=None,
    )
    start = time.monotonic()
    conn = pool.acquire()
    assert conn.target == 1
    assert time.monotonic() - start < 1
    release.set()
