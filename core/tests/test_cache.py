"""The realtime cache on sqlite3: hits, lifetimes, invalidation by writes, errors, bounds.

Lifetimes are measured on a clock the tests move (``RealtimeCache(clock=...)``); these tests
keep rows by ``ttl`` alone (``coherence = ttl``) unless they test the change feed, which
``test_cache_coherence.py`` does.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ara_realtime import BackendError, ConfigError, QueryError, Realtime, hookimpl
from ara_realtime.cache import CacheLimits, CachePolicy, RealtimeCache, cache_of, uncached
from ara_realtime.plugins import Plugins

COLUMNS = {"name": ("char", 40), "host": ("char", 40), "port": ("integer4", 11)}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Outage:
    """Makes the backend's reads and writes fail (a wrapper inside the cache), and counts them."""

    def __init__(self) -> None:
        self.down = False
        self.reads = 0

    def _check(self) -> None:
        if self.down:
            raise BackendError("storage unreachable (injected)")

    @hookimpl(wrapper=True)
    def ara_load(self) -> Any:
        self.reads += 1
        self._check()
        return (yield)

    @hookimpl(wrapper=True)
    def ara_load_multi(self) -> Any:
        self.reads += 1
        self._check()
        return (yield)


class Env:
    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "cache.db"
        self.clock = Clock()
        self.plugins = Plugins()
        self.outage = Outage()
        self.plugins.add_plugin(self.outage, name="outage")
        self.opened: list[Realtime] = []
        setup = self.realtime()
        assert setup.require("peers", COLUMNS)
        for name, host in (("alice", "a"), ("bob", "b"), ("carol", "c")):
            setup.store("peers", {"name": name, "host": host})
        self.raw = sqlite3.connect(self.path, isolation_level=None)

    def realtime(self, **families: str) -> Realtime:
        rt = Realtime(
            {"peers": "sqlite3,db,peers", **families},
            {"sqlite3": {"db": {"dbfile": str(self.path), "requirements": "createclose"}}},
            plugins=self.plugins,
        )
        self.opened.append(rt)
        return rt

    def cached(
        self, limits: CacheLimits | None = None, **policy: Any
    ) -> tuple[Realtime, RealtimeCache]:
        policy.setdefault("coherence", "ttl")
        rt = self.realtime()
        cache = RealtimeCache({"peers": CachePolicy(**policy)}, limits, clock=self.clock)
        return rt, cache.attach(rt)

    def behind(self, sql: str, *params: str) -> None:
        """A change the cache cannot see (coherence = ttl): another program's."""
        self.raw.execute(sql, params)

    def close(self) -> None:
        for rt in self.opened:
            rt.close()
        self.raw.close()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    made = Env(tmp_path)
    yield made
    made.close()


def test_repeated_loads_are_answered_from_the_cache(env: Env) -> None:
    rt, cache = env.cached()
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    reads = env.outage.reads
    for _ in range(5):
        assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    assert env.outage.reads == reads  # the driver was not asked again
    stats = cache.stats().family("peers")
    assert (stats.hits, stats.misses, stats.entries) == (5, 1, 1)
    assert stats.bytes > 0 and stats.hit_ratio == 5 / 6


def test_each_caller_gets_its_own_copy(env: Env) -> None:
    rt, _ = env.cached()
    row = rt.load("peers", name="alice")
    assert row is not None
    row["host"] = "changed by the caller"
    rows = rt.load_multi("peers", ("name LIKE", "%"))
    rows[0]["host"] = "changed too"
    rows.clear()
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    assert [r["name"] for r in rt.load_multi("peers", ("name LIKE", "%"))] == [
        "alice",
        "bob",
        "carol",
    ]


def test_rows_live_their_ttl(env: Env) -> None:
    rt, _ = env.cached(ttl=30)
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    env.behind("UPDATE peers SET host = 'elsewhere' WHERE name = 'alice'")
    env.clock.advance(29.9)
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    env.clock.advance(0.2)
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "elsewhere"}


def test_forever_keeps_rows_until_something_drops_them(env: Env) -> None:
    rt, _ = env.cached(ttl=math.inf)  # chan_sip: rtcachefriends without rtautoclear
    rt.load("peers", name="alice")
    env.behind("UPDATE peers SET host = 'elsewhere' WHERE name = 'alice'")
    env.clock.advance(10**9)
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    assert rt.unload("peers") is True
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "elsewhere"}


def test_no_row_is_remembered_for_its_own_lifetime(env: Env) -> None:
    rt, cache = env.cached(ttl=60, negative_ttl=5)
    assert rt.load("peers", name="dave") is None
    assert rt.load_multi("peers", host="d") == []
    env.behind("INSERT INTO peers (name, host) VALUES ('dave', 'd')")
    assert rt.load("peers", name="dave") is None
    assert rt.load_multi("peers", host="d") == []
    stats = cache.stats().family("peers")
    assert stats.negative_hits == 2 and stats.hits == 2
    env.clock.advance(5.1)
    assert rt.load("peers", name="dave") == {"name": "dave", "host": "d"}
    assert rt.load_multi("peers", host="d") == [{"name": "dave", "host": "d"}]


def test_no_row_is_not_remembered_with_a_zero_negative_ttl(env: Env) -> None:
    rt, cache = env.cached(negative_ttl=0)
    assert rt.load("peers", name="dave") is None
    env.behind("INSERT INTO peers (name, host) VALUES ('dave', 'd')")
    assert rt.load("peers", name="dave") == {"name": "dave", "host": "d"}
    assert cache.stats().family("peers").negative_hits == 0


def test_a_write_drops_only_the_answers_it_may_change(env: Env) -> None:
    rt, cache = env.cached(ttl=math.inf)
    rt.load("peers", name="alice")
    rt.load("peers", name="bob")
    rt.load_multi("peers", ("name LIKE", "%"))
    assert rt.update("peers", "name", "alice", {"host": "x"}) == 1
    before = cache.stats().family("peers")
    assert before.invalidations == 2  # alice's row and the LIKE list; bob's row stays
    assert rt.load("peers", name="bob") == {"name": "bob", "host": "b"}
    assert cache.stats().family("peers").hits == before.hits + 1
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "x"}
    assert [r["host"] for r in rt.load_multi("peers", ("name LIKE", "%"))] == ["x", "b", "c"]


ALL = {"alice", "bob", "carol", "dave"}  # a write that does not fix the key: the whole table


@pytest.mark.parametrize(
    ("write", "dropped"),
    [
        (lambda rt: rt.update("peers", "name", "alice", {"name": "bob"}), {"alice", "bob"}),
        (lambda rt: rt.update2("peers", {"name": "alice"}, {"host": "y"}), {"alice"}),
        (lambda rt: rt.update2("peers", {"host": "a"}, {"host": "y"}), ALL),
        (lambda rt: rt.update("peers", "name LIKE", "a%", {"host": "y"}), ALL),
        (lambda rt: rt.destroy("peers", "name", "carol"), {"carol"}),
        (lambda rt: rt.destroy("peers", "host", "c"), ALL),
        (lambda rt: rt.store("peers", {"name": "dave"}), {"dave"}),
        (lambda rt: rt.store("peers", {"host": "nameless"}), set()),
    ],
)
def test_writes_drop_rows_by_key(
    env: Env, write: Callable[[Realtime], object], dropped: set[str]
) -> None:
    rt, _ = env.cached(ttl=math.inf, negative_ttl=math.inf)
    names = ("alice", "bob", "carol", "dave")
    for name in names:
        rt.load("peers", name=name)
    write(rt)
    reads = env.outage.reads
    for name in names:
        rt.load("peers", name=name)
    assert env.outage.reads - reads == len(dropped)


def test_a_failed_write_drops_too(env: Env) -> None:
    rt, cache = env.cached(ttl=math.inf)
    rt.load("peers", name="alice")
    with pytest.raises(QueryError):
        rt.update("peers", "name", "alice", {"nosuchcolumn": "x"})
    assert cache.stats().family("peers").invalidations == 1


def test_a_backend_error_never_drops_a_cached_row(env: Env) -> None:
    rt, cache = env.cached(ttl=10, stale_if_error=100)
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    env.clock.advance(11)
    env.outage.down = True
    # expired, the backend fails: the row is answered (Asterisk #273: errors are not "gone")
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    reads = env.outage.reads
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    assert env.outage.reads == reads, "asked the failing backend again within error_retry"
    with pytest.raises(BackendError):  # nothing cached for bob: the error is the answer
        rt.load("peers", name="bob")
    env.clock.advance(100)
    with pytest.raises(BackendError):  # beyond stale_if_error
        rt.load("peers", name="alice")
    stats = cache.stats().family("peers")
    assert stats.error_hits == 2 and stats.entries == 1
    env.outage.down = False
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    assert cache.stats().family("peers").hits == 1


def test_fresh_rows_are_answered_while_the_backend_is_down(env: Env) -> None:
    rt, _ = env.cached(ttl=60, stale_if_error=0)
    rt.load("peers", name="alice")
    env.outage.down = True
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}


def test_stale_while_revalidate_answers_at_once_and_reads_again(env: Env) -> None:
    rt, cache = env.cached(ttl=10, stale_while_revalidate=30)
    rt.load("peers", name="alice")
    env.behind("UPDATE peers SET host = 'new' WHERE name = 'alice'")
    env.clock.advance(15)
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}  # stale, at once
    deadline = time.monotonic() + 10
    while cache.stats().family("peers").refreshes < 1 or rt.load("peers", name="alice") != {
        "name": "alice",
        "host": "new",
    }:
        assert time.monotonic() < deadline, "the background read never came"
        time.sleep(0.01)
    stats = cache.stats().family("peers")
    assert stats.stale_hits >= 1 and stats.misses == 1  # the caller never waited for a read
    env.clock.advance(45)  # beyond ttl + stale_while_revalidate: read in line again
    misses = stats.misses
    rt.load("peers", name="alice")
    assert cache.stats().family("peers").misses == misses + 1


def test_a_background_read_that_fails_keeps_the_row(env: Env) -> None:
    rt, cache = env.cached(ttl=10, stale_while_revalidate=30, stale_if_error=0)
    rt.load("peers", name="alice")
    env.clock.advance(15)
    env.outage.down = True
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    deadline = time.monotonic() + 10
    while cache.stats().family("peers").refreshes < 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.05)
    assert cache.stats().family("peers").entries == 1


def test_unload_require_and_reload_clear(env: Env, tmp_path: Path) -> None:
    rt, cache = env.cached(ttl=math.inf)
    rt.load("peers", name="alice")
    assert rt.unload("peers") is True
    assert cache.stats().entries == 0
    rt.load("peers", name="alice")
    rt.require("peers", COLUMNS)
    assert cache.stats().entries == 0
    rt.load("peers", name="alice")
    rt.reload()
    assert cache.stats().entries == 0
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    assert cache.stats().entries == 1
    rt.close()
    assert cache.stats().entries == 0 and cache.stats().backends == ()


def test_bounded_by_entries_with_a_second_chance(env: Env) -> None:
    rt, cache = env.cached(CacheLimits(max_entries=3), ttl=math.inf, negative_ttl=math.inf)
    for name in ("alice", "bob", "carol"):
        rt.load("peers", name=name)
    rt.load("peers", name="alice")  # used since: survives the next eviction
    rt.load("peers", name="dave")
    rt.load("peers", name="erin")
    stats = cache.stats()
    assert stats.entries == 3 and stats.family("peers").evictions == 2
    reads = env.outage.reads
    rt.load("peers", name="alice")
    assert env.outage.reads == reads


def test_bounded_by_memory(env: Env) -> None:
    rt, cache = env.cached(CacheLimits(max_memory=4000), ttl=math.inf, negative_ttl=math.inf)
    for i in range(50):
        rt.load("peers", name=f"nobody{i}")
    stats = cache.stats()
    assert 0 < stats.bytes <= 4000 and stats.entries < 50
    assert stats.family("peers").evictions == 50 - stats.entries


def test_families_without_a_policy_are_not_cached(env: Env) -> None:
    rt = env.realtime(other="sqlite3,db,peers")
    cache = RealtimeCache({"peers": {"coherence": "ttl"}}, clock=env.clock).attach(rt)
    rt.load("other", name="alice")
    rt.load("other", name="alice")
    rt.load("PEERS", name="alice")  # a family is named case-insensitively
    rt.load("peers", name="alice")
    stats = cache.stats()
    assert [f.family for f in stats.families] == ["peers"]
    assert (stats.family("peers").hits, stats.family("peers").misses) == (1, 1)
    rt.update("other", "name", "alice", {"host": "x"})  # another family, the same table
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "x"}


def test_only_the_attached_realtime_is_cached(env: Env) -> None:
    rt, cache = env.cached(ttl=math.inf)
    plain = env.realtime()
    rt.load("peers", name="alice")
    plain.load("peers", name="alice")
    plain.load("peers", name="alice")
    assert cache.stats().family("peers").misses == 1
    assert cache_of(rt) is cache and cache_of(plain) is None
    cache.detach(rt)
    rt.load("peers", name="alice")
    assert cache.stats().entries == 0 and cache_of(rt) is None


def test_configure_replaces_the_policies(env: Env) -> None:
    rt, cache = env.cached(ttl=math.inf)
    rt.load("peers", name="alice")
    cache.configure({"peers": {"ttl": 5, "coherence": "ttl"}})
    assert cache.stats().entries == 0
    rt.load("peers", name="alice")
    env.behind("UPDATE peers SET host = 'moved' WHERE name = 'alice'")
    env.clock.advance(6)
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "moved"}
    cache.configure({})
    rt.load("peers", name="alice")
    assert cache.stats().entries == 0


def test_bad_policies_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="'peers'.*ttl must be > 0"):
        RealtimeCache({"peers": {"ttl": 0}})
    with pytest.raises(ConfigError, match="unexpected keyword|got an unexpected"):
        RealtimeCache({"peers": {"ttl": 5, "rtautoclear": 5}})
    with pytest.raises(ValueError, match="coherence must be one of auto, feed, ttl"):
        CachePolicy(coherence="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_entries"):
        CacheLimits(max_entries=0)


def test_threads_never_see_a_row_older_than_the_last_write(env: Env) -> None:
    rt, cache = env.cached(ttl=math.inf)
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            for name in ("alice", "bob"):
                rt.load("peers", name=name)

    def writer(name: str) -> None:
        for i in range(200):
            rt.update("peers", "name", name, {"port": str(i)})
            row = rt.load("peers", name=name)  # after its own write: never an older value
            if row is None or row.get("port") != str(i):
                errors.append(f"{name}: wrote {i}, read {row}")

    threads = [threading.Thread(target=reader) for _ in range(3)]
    threads += [threading.Thread(target=writer, args=(n,)) for n in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads[3:]:
        t.join()
    stop.set()
    for t in threads[:3]:
        t.join()
    assert errors == []
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a", "port": "199"}
    assert cache.stats().family("peers").hits > 0


def test_a_read_that_started_before_a_write_is_not_kept(env: Env) -> None:
    """The row a slow read brings back after a write dropped its key is older than the write."""
    read_done, write_done = threading.Event(), threading.Event()

    class Slow:
        armed = True

        @hookimpl(wrapper=True)
        def ara_load(self) -> Any:
            row = yield
            if self.armed:
                self.armed = False
                read_done.set()
                write_done.wait(10)
            return row

    env.plugins.add_plugin(Slow(), name="slow")
    rt, cache = env.cached(ttl=math.inf)
    got: list[Any] = []
    reader = threading.Thread(target=lambda: got.append(rt.load("peers", name="alice")))
    reader.start()
    assert read_done.wait(10)
    rt.update("peers", "name", "alice", {"host": "after"})
    write_done.set()
    reader.join()
    assert got == [{"name": "alice", "host": "a"}]  # that caller asked before the write
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "after"}
    assert cache.stats().family("peers").misses == 2


def test_the_plugin_leaves_with_the_last_realtime_it_served(env: Env) -> None:
    import gc

    rt, cache = env.cached()
    rt.load("peers", name="alice")
    env.opened.remove(rt)
    rt.close()
    del rt
    gc.collect()
    assert not env.plugins.pm.is_registered(cache)
    assert cache.stats().backends == ()


def test_a_closed_cache_starts_afresh_when_used(env: Env) -> None:
    rt, cache = env.cached()
    rt.load("peers", name="alice")
    cache.close()
    assert cache.stats().entries == 0
    rt.load("peers", name="alice")
    reads = env.outage.reads
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    assert env.outage.reads == reads


def test_uncached_reads_go_to_the_storage(env: Env) -> None:
    rt, cache = env.cached(ttl=60, stale_if_error=600)
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    env.behind("UPDATE peers SET host = 'new' WHERE name = 'alice'")
    with uncached():
        assert rt.load("peers", name="alice") == {"name": "alice", "host": "new"}
        assert rt.load_multi("peers", ("name", "alice")) == [{"name": "alice", "host": "new"}]
        env.outage.down = True
        with pytest.raises(BackendError):  # no cached row answers the error either
            rt.load("peers", name="alice")
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}  # nothing kept
    stats = cache.stats().family("peers")
    assert (stats.hits, stats.misses, stats.error_hits) == (1, 1, 0)
