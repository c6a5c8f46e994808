"""The cache coherent with changes made elsewhere: sqlite3's polled feed (another connection,
another process), memory's pushed feed, and what happens while a feed does not listen."""

from __future__ import annotations

import math
import queue
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ara_realtime import BackendError, Realtime, hookimpl
from ara_realtime.cache import CacheLimits, RealtimeCache
from ara_realtime.changes import Change, ChangeFeed, Subscription
from ara_realtime.drivers import memory
from ara_realtime.plugins import Plugins

COLUMNS = {"name": ("char", 40), "host": ("char", 40)}
#: Generous: how long the tests wait for a change to arrive (the bounds are far shorter).
PATIENCE = 10.0


def eventually(check: Callable[[], bool], what: str) -> float:
    """Seconds until ``check()`` held (fails after PATIENCE)."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < PATIENCE, f"never: {what}"
        time.sleep(0.005)
    return time.monotonic() - start


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    path = tmp_path / "shared.db"
    rt = Realtime(
        {"peers": "sqlite3,db,peers"},
        {"sqlite3": {"db": {"dbfile": str(path), "requirements": "createclose"}}},
    )
    rt.require("peers", COLUMNS)
    rt.store("peers", {"name": "alice", "host": "a"})
    rt.store("peers", {"name": "bob", "host": "b"})
    rt.close()
    return path


def _sqlite_rt(path: Path) -> Realtime:
    return Realtime(
        {"peers": "sqlite3,db,peers"}, {"sqlite3": {"db": {"dbfile": str(path)}}}, plugins=Plugins()
    )


@pytest.fixture
def cached(sqlite_db: Path) -> Iterator[tuple[Realtime, RealtimeCache]]:
    rt = _sqlite_rt(sqlite_db)
    cache = RealtimeCache({"peers": {"ttl": math.inf}}, CacheLimits(poll_interval=0.05)).attach(rt)
    rt.load("peers", name="alice")  # binds the backend: the feed starts
    assert cache.wait_coherent(PATIENCE)
    yield rt, cache
    rt.close()
    cache.close()


def test_sqlite3_another_connection_is_seen_through_the_poll(
    cached: tuple[Realtime, RealtimeCache], sqlite_db: Path
) -> None:
    rt, cache = cached
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    assert cache.stats().family("peers").hits >= 1
    other = _sqlite_rt(sqlite_db)
    other.update("peers", "name", "alice", {"host": "moved"})
    other.close()
    eventually(
        lambda: rt.load("peers", name="alice") == {"name": "alice", "host": "moved"},
        "the first Realtime sees the second one's change",
    )
    (backend,) = cache.stats().backends
    assert backend.feed == "poll" and backend.tables == {"peers": "live"}
    assert backend.changes >= 1 and backend.bound == 0.05


def test_sqlite3_another_process_is_seen(
    cached: tuple[Realtime, RealtimeCache], sqlite_db: Path
) -> None:
    rt, _ = cached
    assert rt.load("peers", name="bob") == {"name": "bob", "host": "b"}
    script = textwrap.dedent(
        f"""
        from ara_realtime import Realtime
        rt = Realtime({{"peers": "sqlite3,db,peers"}},
                      {{"sqlite3": {{"db": {{"dbfile": {str(sqlite_db)!r}}}}}}})
        assert rt.update("peers", "name", "bob", {{"host": "from another process"}}) == 1
        rt.close()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    eventually(
        lambda: rt.load("peers", name="bob") == {"name": "bob", "host": "from another process"},
        "a change by another process is seen",
    )


def test_sqlite3_a_replaced_file_is_a_lost_feed(
    cached: tuple[Realtime, RealtimeCache], sqlite_db: Path, tmp_path: Path
) -> None:
    rt, cache = cached
    rt.load("peers", name="alice")
    copy = tmp_path / "copy.db"
    copy.write_bytes(sqlite_db.read_bytes())
    copy.replace(sqlite_db)  # a restore from a backup: another file at the same path
    eventually(lambda: cache.stats().backends[0].feed_errors >= 1, "the feed noticed")
    eventually(lambda: cache.wait_coherent(0), "the feed listens to the new file")


@pytest.fixture
def store_name() -> Iterator[str]:
    memory.create_table("coh-mem", "peers", list(COLUMNS))
    yield "coh-mem"
    memory.reset("coh-mem")


def test_memory_pushes_changes_by_key(store_name: str) -> None:
    plugins = Plugins()
    rt = Realtime({"peers": f"memory,{store_name},peers"}, plugins=plugins)
    other = Realtime({"peers": f"memory,{store_name},peers"}, plugins=Plugins())
    other.store("peers", {"name": "alice", "host": "a"})
    other.store("peers", {"name": "bob", "host": "b"})
    cache = RealtimeCache({"peers": {"ttl": math.inf}}).attach(rt)
    rt.load("peers", name="alice")
    assert cache.wait_coherent(PATIENCE)
    assert cache.stats().backends[0].feed == "notify"
    for name in ("alice", "bob", "alice", "bob"):
        rt.load("peers", name=name)
    hits = cache.stats().family("peers").hits
    other.update("peers", "name", "alice", {"host": "moved"})
    eventually(
        lambda: rt.load("peers", name="alice") == {"name": "alice", "host": "moved"},
        "alice's change arrives",
    )
    assert rt.load("peers", name="bob") == {"name": "bob", "host": "b"}
    stats = cache.stats().family("peers")
    assert stats.invalidations == 1  # only alice's row: the change named its key
    assert stats.hits >= hits + 1
    cache.close()


class _Controlled(Subscription):
    def __init__(self, feed: ControlledFeed, tables: Mapping[str, str | None]) -> None:
        self.feed = feed
        self.tables = frozenset(tables)

    def wait(self, timeout: float) -> list[Change] | None:
        try:
            item = self.feed.events.get(timeout=timeout)
        except queue.Empty:
            return []
        if isinstance(item, Exception):
            raise item
        changes: list[Change] | None = item
        return changes

    def close(self) -> None:
        self.feed.closed += 1


class ControlledFeed(ChangeFeed):
    """A feed the test drives: changes, "lost track" and failures on demand (fault injection)."""

    kind = "notify"

    def __init__(self) -> None:
        self.events: queue.Queue[Any] = queue.Queue()
        self.subscribed = 0
        self.closed = 0
        self.refuse = False

    def subscribe(self, tables: Mapping[str, str | None], *, interval: float) -> Subscription:
        if self.refuse:
            raise BackendError("cannot listen (injected)")
        self.subscribed += 1
        return _Controlled(self, tables)


class FeedPlugin:
    def __init__(self, feed: ControlledFeed) -> None:
        self.feed = feed

    @hookimpl(wrapper=True)
    def ara_change_feed(self) -> Any:
        yield
        return self.feed


@pytest.fixture
def controlled(store_name: str) -> Iterator[tuple[Realtime, RealtimeCache, ControlledFeed]]:
    feed = ControlledFeed()
    plugins = Plugins()
    plugins.add_plugin(FeedPlugin(feed))
    rt = Realtime({"peers": f"memory,{store_name},peers"}, plugins=plugins)
    rt.store("peers", {"name": "alice", "host": "a"})
    cache = RealtimeCache({"peers": {"ttl": math.inf, "stale_if_error": 60}}).attach(rt)
    rt.load("peers", name="alice")
    assert cache.wait_coherent(PATIENCE)
    yield rt, cache, feed
    rt.close()
    cache.close()


def _misses(cache: RealtimeCache) -> int:
    return cache.stats().family("peers").misses


def test_lost_track_expires_everything(
    controlled: tuple[Realtime, RealtimeCache, ControlledFeed],
) -> None:
    rt, cache, feed = controlled
    rt.load("peers", name="alice")
    misses = _misses(cache)
    rt.load("peers", name="alice")
    assert _misses(cache) == misses
    feed.events.put(None)
    eventually(lambda: cache.stats().backends[0].lost_track == 1, "lost track applied")
    rt.load("peers", name="alice")
    assert _misses(cache) == misses + 1


def test_changes_without_a_key_drop_the_table(
    controlled: tuple[Realtime, RealtimeCache, ControlledFeed],
) -> None:
    rt, cache, feed = controlled
    rt.store("peers", {"name": "bob"})
    rt.load("peers", name="alice")
    rt.load("peers", name="bob")
    feed.events.put([Change("peers", "name", frozenset({"carol"}))])
    feed.events.put([Change("othertable")])
    eventually(lambda: cache.stats().backends[0].changes == 2, "changes applied")
    assert cache.stats().family("peers").invalidations == 0
    feed.events.put([Change("peers")])
    eventually(lambda: cache.stats().family("peers").invalidations == 2, "table dropped")


def test_while_the_feed_is_down_rows_are_not_fresh_but_answer_errors(
    controlled: tuple[Realtime, RealtimeCache, ControlledFeed],
) -> None:
    rt, cache, feed = controlled
    rt.load("peers", name="alice")
    feed.refuse = True
    feed.events.put(BackendError("listener connection lost (injected)"))
    eventually(lambda: cache.stats().backends[0].tables == {"peers": "down"}, "feed down")
    misses = _misses(cache)
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    assert _misses(cache) == misses + 2  # read each time: a change could go unseen
    assert cache.stats().backends[0].last_error == "cannot listen (injected)"
    feed.refuse = False
    eventually(lambda: cache.wait_coherent(0), "listening again")
    rt.load("peers", name="alice")
    misses = _misses(cache)
    rt.load("peers", name="alice")
    assert _misses(cache) == misses
    assert feed.closed >= 1


def test_coherence_feed_keeps_nothing_a_feed_does_not_cover(sqlite_db: Path) -> None:
    rt = Realtime(
        {"peers": "sqlite3,db,peers"},
        {"sqlite3": {"db": {"dbfile": ":memory:", "requirements": "createclose"}}},
        plugins=Plugins(),
    )
    rt.require("peers", COLUMNS)
    rt.store("peers", {"name": "alice"})
    cache = RealtimeCache({"peers": {"coherence": "feed"}}).attach(rt)
    for _ in range(3):
        assert rt.load("peers", name="alice") == {"name": "alice"}
    assert cache.stats().family("peers").misses == 3
    assert cache.stats().backends[0].tables == {"peers": "down"}
    rt.close()


class _Outage:
    """Makes the backend's reads fail (fault injection, inside the cache)."""

    down = False

    @hookimpl(wrapper=True)
    def ara_load(self) -> Any:
        if self.down:
            raise BackendError("storage unreachable (injected)")
        return (yield)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_is_answered_until_ttl_plus_stale_if_error_after_the_read(
    store_name: str,
) -> None:
    """The feed and the storage go down together (a database outage): the row read at 1000
    stops being fresh at once, and answers the errors until 1000 + ttl + stale_if_error, not
    stale_if_error after the feed dropped."""
    feed, outage, clock = ControlledFeed(), _Outage(), _Clock()
    plugins = Plugins()
    plugins.add_plugin(FeedPlugin(feed))
    plugins.add_plugin(outage)
    rt = Realtime({"peers": f"memory,{store_name},peers"}, plugins=plugins)
    rt.store("peers", {"name": "alice", "host": "a"})
    cache = RealtimeCache({"peers": {"ttl": 60, "stale_if_error": 30}}, clock=clock).attach(rt)
    try:
        rt.load("peers", name="alice")
        assert cache.wait_coherent(PATIENCE)
        rt.load("peers", name="alice")  # read at 1000 while the feed listens: fresh until 1060
        misses = _misses(cache)
        clock.now = 1010
        feed.refuse, outage.down = True, True
        feed.events.put(BackendError("listener connection lost (injected)"))
        eventually(lambda: cache.stats().backends[0].tables == {"peers": "down"}, "feed down")
        for now in (1010.5, 1050, 1089):  # 1050: past the drop + stale_if_error
            clock.now = now
            assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}, now
        clock.now = 1089.5  # within error_retry (1 s) of the last try: answered without one
        assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
        stats = cache.stats().family("peers")
        assert (stats.misses - misses, stats.error_hits) == (3, 4)  # 3 tries of the backend
        clock.now = 1091  # past 1000 + 60 + 30
        with pytest.raises(BackendError, match="injected"):
            rt.load("peers", name="alice")
    finally:
        rt.close()
        cache.close()
