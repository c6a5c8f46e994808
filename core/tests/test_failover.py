"""Failover by priority with backends that really fail (sqlite3 files that cannot be opened)."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from ara_realtime import BackendError, Capabilities, NotSupported, QueryError, Realtime, hookimpl
from ara_realtime.drivers import memory
from ara_realtime.plugins import Plugins


def _db(path: Path, *names: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE IF NOT EXISTS peers (name TEXT, host TEXT)")
    conn.executemany("INSERT INTO peers VALUES (?, 'h')", [(n,) for n in names])
    conn.commit()
    conn.close()


@pytest.fixture
def two(tmp_path: Path, plugins: Plugins):
    primary = tmp_path / "primary" / "p.db"  # the directory does not exist yet: opening fails
    secondary = tmp_path / "s.db"
    _db(secondary, "alice", "bob")
    rt = Realtime(
        {"peers": ["sqlite3,one,peers,1", "sqlite3,two,peers,2"]},
        {"sqlite3": {"one": {"dbfile": str(primary)}, "two": {"dbfile": str(secondary)}}},
        plugins=plugins,
        backoff=0.2,
        max_backoff=0.2,
    )
    yield rt, primary, secondary
    rt.close()


def test_secondary_serves_while_primary_is_down(two) -> None:
    rt, _, _ = two
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "h"}
    assert rt.store("peers", {"name": "carol"}) == 1
    assert rt.load("peers", name="carol") == {"name": "carol"}


def test_not_found_on_healthy_primary_never_reaches_secondary(two) -> None:
    rt, primary, _ = two
    _db(primary, "zed")
    assert rt.load("peers", name="alice") is None  # the secondary has alice: not asked
    assert rt.load_multi("peers", name="alice") == []
    assert rt.update("peers", "name", "alice", {"host": "x"}) == 0
    assert rt.destroy("peers", "name", "alice") == 0
    assert rt.load("peers", name="zed") == {"name": "zed", "host": "h"}


def test_caller_mistake_never_fails_over(two) -> None:
    rt, primary, _ = two
    _db(primary)
    with pytest.raises(QueryError, match="nosuch"):
        rt.load("peers", nosuch="x")


def test_primary_is_used_again_after_it_comes_back(two) -> None:
    rt, primary, _ = two
    assert rt.load("peers", name="alice") is not None  # from the secondary
    _db(primary, "zed")
    # still resting: the secondary answers during the back-off period
    assert rt.load("peers", name="zed") is None
    time.sleep(0.25)
    assert rt.load("peers", name="zed") == {"name": "zed", "host": "h"}
    assert rt.load("peers", name="alice") is None


def test_every_backend_down_is_a_backend_error(tmp_path: Path, plugins: Plugins) -> None:
    rt = Realtime(
        {"peers": ["sqlite3,a,peers,1", "sqlite3,b,peers,2"]},
        {
            "sqlite3": {
                "a": {"dbfile": str(tmp_path / "x" / "a.db")},
                "b": {"dbfile": str(tmp_path / "y" / "b.db")},
            }
        },
        plugins=plugins,
    )
    with pytest.raises(BackendError) as info:
        rt.load("peers", name="alice")
    assert [label for label, _ in info.value.failures] == ["sqlite3:a", "sqlite3:b"]
    # while both rest, they are still tried (never an answer without asking)
    with pytest.raises(BackendError):
        rt.load("peers", name="alice")


def test_corrupt_database_is_a_backend_failure(tmp_path: Path, plugins: Plugins) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    good = tmp_path / "good.db"
    _db(good, "alice")
    rt = Realtime(
        {"peers": ["sqlite3,bad,peers,1", "sqlite3,good,peers,2"]},
        {"sqlite3": {"bad": {"dbfile": str(bad)}, "good": {"dbfile": str(good)}}},
        plugins=plugins,
    )
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "h"}


def test_unsupported_operation_skips_to_a_backend_that_has_it(tmp_path: Path) -> None:
    from ara_realtime import Capabilities, hookimpl

    class ReadOnly:
        @hookimpl
        def ara_capabilities(self) -> Capabilities:
            return Capabilities(operations=frozenset({"load"}))

        @hookimpl
        def ara_connect(self, database: str) -> object:
            return object()

        @hookimpl
        def ara_load(self) -> None:
            return None

    plugins = Plugins()
    plugins.add_driver("readonly", ReadOnly())
    memory.create_table("fo-mem", "peers", ["name"])
    rt = Realtime({"peers": ["readonly,x,peers,1", "memory,fo-mem,peers,2"]}, plugins=plugins)
    assert rt.store("peers", {"name": "a"}) == 1
    assert rt.load("peers", name="a") is None  # the read-only primary answers reads
    rt2 = Realtime({"peers": "readonly,x,peers"}, plugins=plugins)
    with pytest.raises(NotSupported, match="store"):
        rt2.store("peers", {"name": "a"})
    memory.reset("fo-mem")


def test_threads_share_one_realtime(tmp_path: Path, plugins: Plugins) -> None:
    db = tmp_path / "t.db"
    _db(db)
    rt = Realtime(
        {"peers": "sqlite3,t,peers"}, {"sqlite3": {"t": {"dbfile": str(db)}}}, plugins=plugins
    )
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                assert rt.store("peers", {"name": f"t{n}-{i}", "host": "x"}) == 1
                assert rt.load("peers", name=f"t{n}-{i}") == {"name": f"t{n}-{i}", "host": "x"}
            assert rt.update("peers", "name LIKE", f"t{n}-%", {"host": str(n)}) == 50
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(rt.load_multi("peers", ("name LIKE", "t%"))) == 300
    for n in range(6):
        assert len(rt.load_multi("peers", host=str(n))) == 50
    rt.close()


def _store_together(rt: Realtime, threads: int, rows: int) -> list[BaseException]:
    """Start `threads` threads at once, each storing `rows` rows; what they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        start.wait()
        try:
            for i in range(rows):
                assert rt.store("peers", {"name": f"t{n}-{i}", "host": "x"}) == 1
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=30)
    return errors


def test_first_use_from_many_threads_is_not_a_backend_failure(
    tmp_path: Path, plugins: Plugins
) -> None:
    """Threads that first touch a rollback-mode file together all switch it to WAL in turn.

    SQLite refuses the switch at once ("database is locked", no busy wait) to a connection
    that would deadlock for the exclusive lock; unserialised, about one start in eight failed.
    """
    for attempt in range(40):
        db = tmp_path / f"t{attempt}.db"
        _db(db)  # created in rollback-journal mode, as Asterisk or a provisioning script would
        rt = Realtime(
            {"peers": "sqlite3,t,peers"}, {"sqlite3": {"t": {"dbfile": str(db)}}}, plugins=plugins
        )
        errors = _store_together(rt, threads=6, rows=3)
        assert not errors, f"attempt {attempt}: {errors[0]}"
        assert len(rt.load_multi("peers", ("name LIKE", "t%"))) == 18
        rt.close()
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_file_locked_by_another_process_fails_each_thread_within_busy_timeout(
    tmp_path: Path, plugins: Plugins
) -> None:
    """Threads queued for the WAL switch wait ``busy_timeout`` in all, not one each in turn."""
    db = tmp_path / "t.db"
    _db(db, "a")
    other = sqlite3.connect(db, isolation_level=None)  # another process, as far as SQLite knows
    other.execute("BEGIN EXCLUSIVE")
    rt = Realtime(
        {"peers": "sqlite3,t,peers"},
        {"sqlite3": {"t": {"dbfile": str(db), "busy_timeout": "300"}}},
        plugins=plugins,
    )
    took: list[float] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work() -> None:
        start.wait()
        t0 = time.monotonic()
        try:
            rt.load("peers", name="a")
        except BackendError as exc:
            errors.append(exc)
        took.append(time.monotonic() - t0)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    other.rollback()
    other.close()
    assert len(errors) == 4 and all("locked" in str(e) for e in errors)
    assert max(took) < 0.9, f"waits {sorted(took)}: queued threads added their timeouts up"
    assert rt.load("peers", name="a") == {"name": "a", "host": "h"}  # fine once released
    rt.close()


class _Dead:
    """A driver whose storage is always down (``BackendError`` on every call)."""

    def __init__(self) -> None:
        self.calls = 0
        self.down = True

    @hookimpl
    def ara_connect(self) -> object:
        return object()

    @hookimpl
    def ara_capabilities(self) -> Capabilities:
        return Capabilities.full()

    @hookimpl
    def ara_load(self) -> None:
        self.calls += 1
        if self.down:
            raise BackendError("server gone")


def _dead_over_memory(
    plugins: Plugins, *, backoff: float, max_backoff: float
) -> tuple[Realtime, _Dead]:
    dead = _Dead()
    plugins.add_driver("dead", dead)
    memory.reset("fallback")
    memory.create_table("fallback", "peers", ["name", "host"])
    memory.store("fallback").tables["peers"].rows.append({"name": "alice", "host": "h"})
    rt = Realtime(
        {"peers": ["dead,x,peers,1", "memory,fallback,peers,2"]},
        plugins=plugins,
        backoff=backoff,
        max_backoff=max_backoff,
    )
    return rt, dead


def test_thousands_of_failures_keep_failing_over(plugins: Plugins) -> None:
    """The back-off doubles per failure; past ~1,024 failures 2**n overflowed a float."""
    rt, dead = _dead_over_memory(plugins, backoff=0.001, max_backoff=0.001)
    for _ in range(3000):
        rt._backends[("dead", "x")].failed_until = 0.0  # try the dead backend on every call
        assert rt.load("peers", name="alice") == {"name": "alice", "host": "h"}
    assert dead.calls == 3000
    assert rt._backends[("dead", "x")].failures == 3000


def test_thousands_of_failures_of_the_only_backend_are_backend_errors(plugins: Plugins) -> None:
    dead = _Dead()
    plugins.add_driver("dead", dead)
    rt = Realtime({"peers": "dead,x"}, plugins=plugins, backoff=0.001, max_backoff=0.001)
    for _ in range(2000):
        with pytest.raises(BackendError, match="server gone"):
            rt.load("peers", name="alice")
    assert dead.calls == 2000


def test_a_dead_backend_is_logged_once_per_state_change(
    plugins: Plugins, caplog: pytest.LogCaptureFixture
) -> None:
    """1,300 failed calls in a row: one warning when it goes down, one when it is back."""
    rt, dead = _dead_over_memory(plugins, backoff=0.001, max_backoff=0.001)
    backend = rt._backends[("dead", "x")]
    with caplog.at_level(logging.INFO, logger="ara_realtime"):
        for _ in range(1300):
            backend.failed_until = 0.0
            rt.load("peers", name="alice")
        assert dead.calls == 1300
        down = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(down) == 1, [r.getMessage() for r in down]
        assert "dead:x failed" in down[0].getMessage()
        assert "server gone" in down[0].getMessage()
        # a period later it is logged once more, with the count of the calls not logged
        backend.next_log = 0.0
        backend.failed_until = 0.0
        rt.load("peers", name="alice")
        again = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING][1:]
        assert len(again) == 1 and "still failing" in again[0] and "1299 failed calls" in again[0]
        dead.down = False
        backend.failed_until = 0.0
        assert rt.load("peers", name="alice") is None
        back = [r.getMessage() for r in caplog.records if "is back" in r.getMessage()]
        assert back == [back[0]] and "1301 failed calls" in back[0]
