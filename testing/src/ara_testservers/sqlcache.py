"""The realtime cache on a real SQL server (shared tests): hits, writes, a stopped server, and
changes made by another ``Realtime``, seen through the driver's change feed where it has one
(PostgreSQL: triggers installed by ``install_change_feeds``) and by ``ttl`` where it has none.

A driver's test module runs them with ``from ara_testservers.sqlcache import *``; the fixtures
come from :mod:`ara_testservers.sqlfixtures`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ara_realtime import BackendError, Realtime
from ara_realtime.cache import CacheLimits, CachePolicy, RealtimeCache, install_change_feeds

from .sqlfixtures import PEER_COLUMNS

__all__ = [
    "cache_table",
    "cached",
    "test_cache_answers_repeated_loads_and_writes_drop_them",
    "test_cache_sees_another_realtimes_change",
    "test_cache_serves_cached_rows_while_the_server_is_stopped",
]

#: The most a change may take to reach a cache through a change feed (the issue's bound).
FEED_BOUND = 1.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cache_table(
    make_rt: Callable[..., Realtime], sql_tables: Callable[[str], str], sql_driver: str
) -> Iterator[str]:
    """A fresh peers table with alice and bob; yields its mapping (``driver,ara,table``)."""
    mapping = f"{sql_driver},ara,{sql_tables('cached')}"
    setup = make_rt({"peers": mapping}, requirements="createclose")
    assert setup.require("peers", PEER_COLUMNS)
    setup.store("peers", {"name": "alice", "host": "a"})
    setup.store("peers", {"name": "bob", "host": "b"})
    yield mapping


@pytest.fixture
def cached(
    make_rt: Callable[..., Realtime],
) -> Iterator[Callable[..., tuple[Realtime, RealtimeCache]]]:
    """``cached(mapping, clock=None, **policy)``: a Realtime on ``mapping`` with a cache of
    family ``peers``; detached (and closed) after the test."""
    made: list[tuple[Realtime, RealtimeCache]] = []

    def make(
        mapping: str, clock: Clock | None = None, **policy: Any
    ) -> tuple[Realtime, RealtimeCache]:
        rt = make_rt({"peers": mapping})
        cache = RealtimeCache(
            {"peers": CachePolicy(**policy)},
            CacheLimits(poll_interval=0.1),
            clock=clock if clock is not None else time.monotonic,
        )
        made.append((rt, cache.attach(rt)))
        return made[-1]

    yield make
    for rt, cache in made:
        cache.detach(rt)
        cache.close()


def test_cache_answers_repeated_loads_and_writes_drop_them(
    cached: Callable[..., tuple[Realtime, RealtimeCache]], cache_table: str
) -> None:
    rt, cache = cached(cache_table, ttl=math.inf, coherence="ttl")
    for _ in range(3):
        assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
        assert rt.load("peers", name="bob") == {"name": "bob", "host": "b"}
    assert rt.load_multi("peers", ("name LIKE", "%")) == rt.load_multi("peers", ("name LIKE", "%"))
    stats = cache.stats().family("peers")
    assert (stats.misses, stats.hits) == (3, 5)
    assert rt.update("peers", "name", "alice", {"host": "x"}) == 1
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "x"}
    assert rt.load("peers", name="bob") == {"name": "bob", "host": "b"}
    assert [r["host"] for r in rt.load_multi("peers", ("name LIKE", "%"))] == ["x", "b"]
    stats = cache.stats().family("peers")
    assert (stats.misses, stats.invalidations) == (5, 2)  # alice's row and the list


def test_cache_serves_cached_rows_while_the_server_is_stopped(
    sql_server: Any,
    cached: Callable[..., tuple[Realtime, RealtimeCache]],
    cache_table: str,
    sql_driver: str,
) -> None:
    clock = Clock()
    rt, cache = cached(cache_table, clock, ttl=60, stale_if_error=300, coherence="ttl")
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    rt.load("peers", name="bob")
    clock.now += 61  # bob's row too has expired
    sql_server.stop()
    try:
        assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
        assert rt.load("peers", name="bob") == {"name": "bob", "host": "b"}
        with pytest.raises(BackendError):  # never cached: the failure is the answer
            rt.load("peers", name="carol")
        clock.now += 300
        with pytest.raises(BackendError):  # beyond stale_if_error
            rt.load("peers", name="alice")
    finally:
        sql_server.restart()
    rt._backends[(sql_driver, "ara")].failed_until = 0  # no back-off
    assert cache.stats().family("peers").error_hits == 2
    assert cache.stats().family("peers").entries == 2  # the failures dropped nothing
    deadline = time.monotonic() + 30
    while True:
        try:
            assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
            break
        except BackendError:
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_cache_sees_another_realtimes_change(
    make_rt: Callable[..., Realtime],
    cached: Callable[..., tuple[Realtime, RealtimeCache]],
    cache_table: str,
) -> None:
    """Through the driver's change feed within FEED_BOUND; without one, after ``ttl``."""
    clock = Clock()
    probe = make_rt({"peers": cache_table})
    (_, _, feed) = probe.change_feeds("peers")[0]
    if feed is None:
        rt, cache = cached(cache_table, clock, ttl=30)
    else:
        (report,) = install_change_feeds(probe, ["peers"])
        assert report.ready and report.error is None, report
        rt, cache = cached(cache_table, ttl=math.inf)
    rt.load("peers", name="alice")
    assert cache.wait_coherent(10)
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    assert rt.load("peers", name="bob") == {"name": "bob", "host": "b"}
    other = make_rt({"peers": cache_table})
    assert other.update("peers", "name", "alice", {"host": "moved"}) == 1
    changed = time.monotonic()
    if feed is None:
        assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}  # by ttl only
        clock.now += 30
        assert rt.load("peers", name="alice") == {"name": "alice", "host": "moved"}
        assert cache.stats().backends[0].feed == "none"
    else:
        while rt.load("peers", name="alice") != {"name": "alice", "host": "moved"}:
            assert time.monotonic() - changed < FEED_BOUND, "the change was not seen in time"
            time.sleep(0.002)
        assert cache.stats().backends[0].tables == {cache_table.split(",")[2]: "live"}
        hits = cache.stats().family("peers").hits
        assert rt.load("peers", name="bob") == {"name": "bob", "host": "b"}
        assert cache.stats().family("peers").hits == hits + 1  # only alice's row was dropped
