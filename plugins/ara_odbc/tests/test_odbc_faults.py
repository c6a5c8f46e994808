"""Faults through real ODBC drivers: a dead pooled connection, an exhausted pool, a server restart,
a server that accepts TCP but never answers."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ara_odbc.driver import OdbcConnection
from ara_realtime import BackendError, Realtime
from ara_realtime.plugins import Plugins
from ara_testservers import MariaDBServer, PostgresServer
from ara_testservers.odbc import Dsn, OdbcFiles

COLUMNS = {"name": ("char", 40), "port": ("integer4", 11)}
_count = iter(range(10**6))


@pytest.fixture(scope="module")
def plugins() -> Plugins:
    return Plugins()


@pytest.fixture(params=["postgresql", "mariadb"])
def server_dsn(request: pytest.FixtureRequest) -> tuple[Any, Dsn]:
    """Each test on both servers (SQLite has no server to lose)."""
    if request.param == "postgresql":
        return request.getfixturevalue("pg_server"), request.getfixturevalue("odbc_pg")
    return request.getfixturevalue("mariadb_server"), request.getfixturevalue("odbc_mariadb")


@pytest.fixture
def make_rt(plugins: Plugins) -> Iterator[Callable[..., Realtime]]:
    opened: list[Realtime] = []

    def make(dsn: Dsn, **settings: str) -> Realtime:
        table = f"fault_{next(_count)}"
        rt = Realtime(
            {"peers": f"odbc,faults,{table}"},
            {"odbc": {"faults": {**dsn.settings(requirements="createclose"), **settings}}},
            plugins=plugins,
        )
        opened.append(rt)
        assert rt.require("peers", COLUMNS)
        return rt

    yield make
    for rt in opened:
        rt.close()


def _conn(rt: Realtime) -> OdbcConnection:
    conn = rt._backends[("odbc", "faults")].connection
    assert isinstance(conn, OdbcConnection)
    return conn


def _kill_sessions(server: Any) -> None:
    """End every client session of the test user on the server (the pool's connections die)."""
    if isinstance(server, PostgresServer):
        server.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE usename = '{server.user}' AND pid <> pg_backend_pid()"
        )
    else:
        assert isinstance(server, MariaDBServer)
        ids = server.sql(
            f"SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '{server.user}'"
        ).split()
        for pid in ids:
            server.sql(f"KILL {int(pid)}")


def test_a_dead_connection_in_the_pool_is_replaced(
    server_dsn: tuple[Any, Dsn], make_rt: Callable[..., Realtime]
) -> None:
    server, dsn = server_dsn
    rt = make_rt(dsn, max_connections="2", pool_pre_ping="0")
    rt.store("peers", {"name": "a", "port": "1"})
    _kill_sessions(server)
    # sanitysql on checkout finds the dead one: reads and writes see no error
    assert rt.load("peers", name="a") == {"name": "a", "port": "1"}
    _kill_sessions(server)
    assert rt.update("peers", "name", "a", {"port": "2"}) == 1
    # without the check, a read is retried once on a fresh connection
    rt2 = make_rt(dsn, pool_pre_ping="no")
    rt2.store("peers", {"name": "b"})
    _kill_sessions(server)
    assert rt2.load("peers", name="b") == {"name": "b"}


def test_eight_threads_share_one_connection_and_never_hang(
    server_dsn: tuple[Any, Dsn], make_rt: Callable[..., Realtime]
) -> None:
    _, dsn = server_dsn
    rt = make_rt(dsn, max_connections="1", pool_timeout="5")
    for i in range(8):
        rt.store("peers", {"name": f"t{i}", "port": str(i)})
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(50):
                row = rt.load("peers", name=f"t{(i + k) % 8}")
                assert row is not None and row["port"] == str((i + k) % 8)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert errors == []
    assert _conn(rt).pool.status().limit == 1


def test_an_exhausted_pool_fails_clearly_within_the_acquire_timeout(
    server_dsn: tuple[Any, Dsn], make_rt: Callable[..., Realtime]
) -> None:
    _, dsn = server_dsn
    rt = make_rt(dsn, max_connections="1", pool_timeout="0.5")
    rt.store("peers", {"name": "x"})
    pool = _conn(rt).pool
    held = pool.acquire()  # the only connection, busy for the whole test
    outcomes: list[tuple[float, BaseException | None]] = []

    def call() -> None:
        start = time.monotonic()
        try:
            rt.load("peers", name="x")
            outcomes.append((time.monotonic() - start, None))
        except BaseException as exc:
            outcomes.append((time.monotonic() - start, exc))

    try:
        threads = [threading.Thread(target=call) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=10)
        assert not any(t.is_alive() for t in threads), "a thread hung"
    finally:
        pool.release(held)
    assert len(outcomes) == 8
    for took, exc in outcomes:
        assert isinstance(exc, BackendError)
        assert "pool_timeout = 0.5 s" in str(exc) and "max_connections = 1" in str(exc)
        assert took < 2.0
    assert rt.load("peers", name="x") == {"name": "x"}  # and then normal again


def test_a_server_restart_costs_at_most_one_failed_call(
    server_dsn: tuple[Any, Dsn], make_rt: Callable[..., Realtime]
) -> None:
    server, dsn = server_dsn
    rt = make_rt(dsn, max_connections="4")
    for i in range(10):
        rt.store("peers", {"name": f"p{i}", "port": str(i)})
    failures: list[str] = []
    for i in range(60):
        if i == 20:
            server.restart()
        try:
            assert rt.load("peers", name=f"p{i % 10}") == {
                "name": f"p{i % 10}",
                "port": str(i % 10),
            }
        except BackendError as exc:
            failures.append(f"load {i}: {exc}")
    assert failures == []  # reads: a lost connection is replaced and the read retried
    for i in range(40):
        if i == 20:
            server.restart()
        try:
            assert rt.update("peers", "name", f"p{i % 10}", {"port": str(i)}) == 1
        except BackendError as exc:
            failures.append(f"update {i}: {exc}")
    assert len(failures) <= 1, failures


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts TCP connections and never sends a byte."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(srv.getsockname()[1])
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    srv.close()


@pytest.mark.parametrize("driver", ["PostgreSQL Unicode", "MariaDB Unicode"])
def test_a_server_that_never_answers_is_a_backend_error_within_connect_timeout(
    odbc_files: OdbcFiles, silent_port: int, plugins: Plugins, driver: str
) -> None:
    host = {"Servername" if driver.startswith("Postgre") else "Server": "127.0.0.1"}
    dsn = odbc_files.add(
        f"silent_{driver.split(maxsplit=1)[0].lower()}",
        driver,
        **host,
        Port=str(silent_port),
        Database="ara",
        UID="ara",
        PWD="x",
    )
    rt = Realtime(
        {"peers": "odbc,silent"},
        {"odbc": {"silent": dsn.settings(connect_timeout="1", negative_connection_cache="30")}},
        plugins=plugins,
    )
    try:
        start = time.monotonic()
        with pytest.raises(BackendError, match=r"odbc class 'silent'.*connect"):
            rt.load("peers", name="x")
        assert time.monotonic() - start < 2.5
        start = time.monotonic()
        with pytest.raises(BackendError):  # no second wait: the negative cache answers
            rt._backends[("odbc", "silent")].failed_until = 0
            rt.load("peers", name="x")
        assert time.monotonic() - start < 0.5
    finally:
        rt.close()


def test_mariadb_stopping_mid_session_is_bounded_by_the_dsn_timeouts(
    mariadb_server: MariaDBServer, odbc_mariadb: Dsn, make_rt: Callable[..., Realtime]
) -> None:
    """A server that stops answering with connections open: MariaDB Connector/ODBC's own
    READ_TIMEOUT and CONN_TIMEOUT (psqlODBC has no such limit: docs/drivers/odbc.md)."""
    dsn = Dsn(f"DSN={odbc_mariadb.name};READ_TIMEOUT=1;WRITE_TIMEOUT=1;CONN_TIMEOUT=1", "")
    rt = make_rt(dsn, connect_timeout="2", pool_pre_ping="no")
    rt.store("peers", {"name": "a"})
    assert mariadb_server.pid is not None
    os.kill(mariadb_server.pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        with pytest.raises(BackendError, match=r"odbc class 'faults'"):
            rt.load("peers", name="a")
        assert time.monotonic() - start < 6  # READ_TIMEOUT, then one retry's connect limit
    finally:
        os.kill(mariadb_server.pid, signal.SIGCONT)
    rt._backends[("odbc", "faults")].failed_until = 0
    assert rt.load("peers", name="a") == {"name": "a"}


def test_a_server_stopped_mid_session_is_cut_at_query_timeout(
    server_dsn: tuple[Any, Dsn], make_rt: Callable[..., Realtime]
) -> None:
    """psqlODBC has no read timeout of its own: the core's watchdog cuts the socket found
    through the port the server sees (ara_odbc.sockets); MariaDB's likewise."""
    server, dsn = server_dsn
    rt = make_rt(dsn, query_timeout="1", connect_timeout="2", pool_pre_ping="no")
    rt.store("peers", {"name": "a"})
    watch = _conn(rt).pool.acquire()
    assert getattr(watch.watch, "_fd", -1) >= 0, "no socket found for the connection"
    _conn(rt).pool.release(watch)
    pids = [server.pid]
    if isinstance(server, PostgresServer):  # the backends too, not only the postmaster
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        pids += [int(p) for p in children]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        with pytest.raises(BackendError, match=r"odbc class 'faults'"):
            rt.load("peers", name="a")
        assert time.monotonic() - start < 4  # query_timeout, never retried
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    rt._backends[("odbc", "faults")].failed_until = 0
    assert rt.load("peers", name="a") == {"name": "a"}
