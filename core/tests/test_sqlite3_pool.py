"""The sqlite3 driver's connections are bounded, whatever the number of threads calling it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from ara_realtime import BackendError, ConfigError, Realtime
from ara_realtime.drivers.sqlite3 import SQLiteConnection
from ara_realtime.plugins import Plugins
from ara_realtime.sql.pool import BoundedPool
from ara_testservers.ci import unavailable


def _fds(path: Path) -> int:
    """This process's open file descriptors on the database file (and its WAL, SHM)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        count += target.startswith(str(path))
    return count


def _rt(tmp_path: Path, plugins: Plugins, **settings: str) -> Realtime:
    db = {"dbfile": str(tmp_path / "p.db"), "requirements": "createclose", **settings}
    rt = Realtime(
        {"peers": "sqlite3,db"},
        {"sqlite3": {"db": db}},
        plugins=plugins,
    )
    assert rt.require("peers", {"name": ("char", 40), "host": ("char", 40)})
    rt.store("peers", {"name": "alice", "host": "h"})
    return rt


def _conn(rt: Realtime) -> SQLiteConnection:
    conn = rt._backends[("sqlite3", "db")].connection
    assert isinstance(conn, SQLiteConnection)
    return conn


def _pool(rt: Realtime) -> BoundedPool:
    pool = _conn(rt).reader
    assert isinstance(pool, BoundedPool)
    return pool


def test_two_thousand_short_lived_threads_cost_no_more_than_the_pool(
    tmp_path: Path, plugins: Plugins
) -> None:
    """Each thread used to keep a connection (and 2 file descriptors) until close()."""
    if not Path("/proc/self/fd").is_dir():
        unavailable("the descriptor count", "no /proc/self/fd (not Linux)")
    rt = _rt(tmp_path, plugins, pool_size="3")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            assert rt.load("peers", name="alice") == {"name": "alice", "host": "h"}
        except BaseException as exc:  # reported below
            errors.append(exc)

    for batch in range(100):  # 2,000 threads, 20 alive at a time
        threads = [threading.Thread(target=work) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:3]
        status = _conn(rt).reader.status()
        assert status.in_use == 0 and status.idle <= 3, (batch, status)
    # at most pool_size + pool_overflow (13) connections ever existed at once, each holding
    # the file, its WAL and SHM (SQLite keeps a closed one's descriptors for reuse while
    # another holds a lock): bounded by the pool, not by the 2,000 threads
    pool = _pool(rt)
    assert pool.limit == 13
    assert _fds(tmp_path / "p.db") <= 3 * pool.limit, _fds(tmp_path / "p.db")
    rt.close()


def test_busy_threads_wait_for_a_connection_within_the_bound(
    tmp_path: Path, plugins: Plugins
) -> None:
    rt = _rt(tmp_path, plugins, pool_size="1", pool_overflow="1", pool_timeout="10")
    conn = _conn(rt)
    peak = 0
    stop = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, conn.reader.status().in_use)
            time.sleep(0.0005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(rt.load("peers", name="alice")))
        for _ in range(32)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watcher.join()
    assert len(results) == 32 and all(r == {"name": "alice", "host": "h"} for r in results)
    assert peak <= 2 and _pool(rt)._open <= 2
    rt.close()


def test_an_exhausted_pool_is_a_backend_error_after_pool_timeout(
    tmp_path: Path, plugins: Plugins
) -> None:
    rt = _rt(tmp_path, plugins, pool_size="1", pool_overflow="0", pool_timeout="0.2")
    pool = _conn(rt).reader
    held = pool.acquire()  # the only connection, kept busy
    started = time.monotonic()
    with pytest.raises(BackendError, match=r"no connection free within pool_timeout = 0\.2 s"):
        rt.load("peers", name="alice")
    assert time.monotonic() - started < 5
    pool.release(held)
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "h"}
    rt.close()


def test_pool_settings_are_checked(tmp_path: Path, plugins: Plugins) -> None:
    for key, value in [("pool_size", "0"), ("pool_timeout", "soon"), ("pool_overflow", "-1")]:
        rt = Realtime(
            {"peers": "sqlite3,db"},
            {"sqlite3": {"db": {"dbfile": str(tmp_path / "x.db"), key: value}}},
            plugins=plugins,
        )
        with pytest.raises(ConfigError, match=key):
            rt.load("peers", name="a")
