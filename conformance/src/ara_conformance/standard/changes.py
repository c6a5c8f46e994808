"""Area ``changes``: the change feed a driver declares (``ara_change_feed``).

A driver whose ``Capabilities.change_feed`` is ``"notify"`` or ``"poll"`` must report every
change committed after a subscription started, by anyone (another ``Realtime`` on its own
connection, a client beside the driver), within the subscription's ``bound``; a change naming
a key column must list the old and new key values of the rows it touched; a loss of track is
reported, never hidden (see :mod:`ara_realtime.changes`). Each test installs what the feed
needs on its fresh table first (``ChangeFeed.setup``, as ``realtime cache install`` does).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ara_realtime import BackendError, Capabilities
from ara_realtime.cache import RealtimeCache
from ara_realtime.changes import Change, ChangeFeed, Subscription

from .._areas import conformance, register_standard
from .._base import ConformanceBase
from .._tables import PEERS
from .._target import Session, Target
from ._common import FAM

__all__ = ["ChangesTests"]

#: How often a poll feed is asked to look (the tests' own bound).
INTERVAL = 0.1
#: Slack beyond a subscription's bound before a missing change is a failure (busy machines).
SLACK = 3.0
KEY = "name"


def _declared(caps: Capabilities) -> bool:
    return caps.change_feed != "none"


def _feed(s: Session) -> tuple[ChangeFeed, str]:
    ((_, table, feed),) = s.rt.change_feeds(FAM)
    assert feed is not None, (
        f"the driver declares change_feed={s.target.capabilities.change_feed!r} but "
        "ara_change_feed returned None"
    )
    return feed, table


@contextmanager
def _watching(s: Session) -> Iterator[tuple[Subscription, str]]:
    feed, table = _feed(s)
    feed.setup({table: KEY})
    sub = feed.subscribe({table: KEY}, interval=INTERVAL)
    try:
        assert table in sub.tables, f"the subscription does not cover {table!r} after setup"
        yield sub, table
    finally:
        sub.close()


def _until(
    sub: Subscription, table: str, done: Callable[[list[Change]], bool], what: str
) -> list[Change]:
    """Changes to ``table`` reported until ``done(changes)`` holds; fails after the bound."""
    got: list[Change] = []
    deadline = time.monotonic() + sub.bound + SLACK
    while True:
        batch = sub.wait(0.05)
        assert batch is not None, f"the feed lost track while nothing failed ({what})"
        got.extend(c for c in batch if c.table == table)
        if done(got):
            return got
        assert time.monotonic() < deadline, (
            f"{what}: not reported within the subscription's bound ({sub.bound:g} s) plus "
            f"{SLACK:g} s; reported: {got}"
        )


def _covers(*keys: str) -> Callable[[list[Change]], bool]:
    """True once the changes may affect every row whose key is one of ``keys``."""
    wanted = set(keys)

    def done(changes: list[Change]) -> bool:
        seen: set[str] = set()
        for c in changes:
            if c.column is None or c.values is None or c.column != KEY:
                return True  # the whole table
            seen |= c.values
        return wanted <= seen

    return done


def _quiet(sub: Subscription, table: str) -> None:
    """Drain what earlier writes (the session's set-up) may still report."""
    deadline = time.monotonic() + sub.bound + 0.3
    while time.monotonic() < deadline:
        sub.wait(0.05)


@register_standard
class ChangesTests(ConformanceBase):
    """The change feed: every change by anyone reported, keys named, losses never hidden."""

    @conformance("changes", when=_declared, label="change_feed")
    def test_the_feed_is_what_the_driver_declares(self, ara: Session) -> None:
        """``ara_change_feed`` returns a ``ChangeFeed`` of the declared kind; after ``setup``
        (twice: it is idempotent) the table is ``ready``.

        Usually broken by: declaring a feed the connection does not return, or a ``setup``
        that fails when run again.
        """
        feed, table = _feed(ara)
        assert isinstance(feed, ChangeFeed)
        assert feed.kind == ara.target.capabilities.change_feed
        feed.setup({table: KEY})
        feed.setup({table: KEY})
        assert table in feed.ready([table])

    @conformance(
        "changes",
        ops=("store", "update", "update2", "destroy"),
        when=_declared,
        label="change_feed",
    )
    def test_another_realtimes_writes_are_reported(self, ara: Session) -> None:
        """Each write of another ``Realtime`` (its own connection) is reported, naming the
        rows' old and new key values when it names a column.

        Usually broken by: a feed that sees only its own connection's writes, or that lists
        the new key values and forgets the old ones (a renamed row stays cached).
        """
        other = ara.another()
        other.store(FAM, {"name": "a", "host": "h"})
        other.store(FAM, {"name": "c", "host": "h"})
        with _watching(ara) as (sub, table):
            _quiet(sub, table)
            other.store(FAM, {"name": "b", "host": "h"})
            _until(sub, table, _covers("b"), "store of b")
            assert other.update(FAM, "name", "a", {"name": "renamed"}) == 1
            _until(sub, table, _covers("a", "renamed"), "update renaming a (old and new key)")
            assert other.update2(FAM, {"name": "b"}, {"host": "x"}) == 1
            _until(sub, table, _covers("b"), "update2 of b")
            assert other.destroy(FAM, "name", "c") == 1
            _until(sub, table, _covers("c"), "destroy of c")

    @conformance("changes", when=_declared, label="change_feed", backdoor="write")
    def test_a_write_beside_the_driver_is_reported(self, ara: Session) -> None:
        """A row written without the driver (another program) is reported too.

        Usually broken by: a feed that reports what the driver itself wrote, not what the
        storage committed.
        """
        with _watching(ara) as (sub, table):
            _quiet(sub, table)
            ara.write_raw(FAM, {"name": "behind", "host": "h"})
            _until(sub, table, _covers("behind"), "a row written beside the driver")

    @conformance("changes", ops=("update",), when=_declared, label="change_feed")
    def test_a_burst_of_writes_is_reported_in_full(self, ara: Session) -> None:
        """Fifty writes in a row, each to its own key: every key is covered by the reports
        (they may be merged, or name the whole table).

        Usually broken by: keeping only the last message, or a queue that drops messages
        without saying so (``wait`` must return ``None`` then).
        """
        other = ara.another()
        keys = [f"k{i:02d}" for i in range(50)]
        for key in keys:
            other.store(FAM, {"name": key})
        with _watching(ara) as (sub, table):
            _quiet(sub, table)
            for key in keys:
                other.update(FAM, "name", key, {"host": "burst"})
            _until(sub, table, _covers(*keys), "50 updates in a row")

    @conformance("changes", when=_declared, label="change_feed")
    def test_wait_keeps_to_its_timeout(self, ara: Session) -> None:
        """With nothing changing, ``wait(timeout)`` returns ``[]`` (or changes of other
        tables' making) in about ``timeout`` seconds: the consumer's thread can stop.

        Usually broken by: blocking until the next change, whatever the timeout.
        """
        with _watching(ara) as (sub, table):
            _quiet(sub, table)
            start = time.monotonic()
            got = sub.wait(0.2)
            took = time.monotonic() - start
            assert got is not None
            assert [c for c in got if c.table == table] == []
            assert took < 0.2 + SLACK, f"wait(0.2) took {took:.2f} s"
            sub.close()
            sub.close()  # closing twice is harmless

    @conformance("changes", ops=("store", "update"), when=_declared, label="change_feed")
    def test_an_outage_is_reported_never_hidden(self, ara_target: Target) -> None:
        """When the storage goes down, ``wait`` raises ``BackendError`` or returns ``None``
        (lost track), or else goes on reporting every change made after it came back.

        Usually broken by: swallowing the lost connection and returning ``[]`` for ever.
        """
        with ara_target.open({FAM: PEERS}, roles=("primary",), faults=True) as s:
            other = s.another()
            other.store(FAM, {"name": "a"})
            signalled = False
            with _watching(s) as (sub, table):
                _quiet(sub, table)
                with s.outage("primary"):
                    try:
                        signalled = sub.wait(0.3) is None
                    except BackendError:
                        signalled = True
                if not signalled:
                    time.sleep(ara_target.backoff * 3 + 0.05)
                    fresh = s.another()
                    assert fresh.update(FAM, "name", "a", {"host": "after"}) == 1
                    got: list[Change] = []
                    deadline = time.monotonic() + sub.bound + SLACK
                    while not _covers("a")(got):
                        try:
                            batch = sub.wait(0.05)
                        except BackendError:
                            break  # said so: the consumer subscribes again
                        if batch is None:
                            break
                        got.extend(c for c in batch if c.table == table)
                        assert time.monotonic() < deadline, (
                            "after the outage the feed returned [] without reporting the "
                            f"change made since, nor the loss: {got}"
                        )

    @conformance("changes", ops=("store", "update", "load"), when=_declared, label="change_feed")
    def test_a_cache_on_top_sees_another_realtimes_change(self, ara: Session) -> None:
        """End to end: with the realtime cache keeping rows for ever, a row another
        ``Realtime`` changes is read anew within the feed's bound.

        Usually broken by: anything above; or a ``subscribe`` that covers a table without
        reporting its changes.
        """
        feed, table = _feed(ara)
        feed.setup({table: KEY})
        other = ara.another()
        other.store(FAM, {"name": "a", "host": "before"})
        cache = RealtimeCache({FAM: {"ttl": math.inf}})
        cache.attach(ara.rt)
        try:
            assert ara.rt.load(FAM, name="a") == {"name": "a", "host": "before"}
            assert cache.wait_coherent(SLACK + 2), "the cache's feed never listened"
            assert ara.rt.load(FAM, name="a") == {"name": "a", "host": "before"}
            assert other.update(FAM, "name", "a", {"host": "after"}) == 1
            changed = time.monotonic()
            (backend,) = cache.stats().backends
            bound = backend.bound or 0.0
            while ara.rt.load(FAM, name="a") != {"name": "a", "host": "after"}:
                assert time.monotonic() - changed < bound + SLACK, (
                    f"the cached row was still the old one {bound + SLACK:g} s after the change"
                )
                time.sleep(0.01)
        finally:
            cache.detach(ara.rt)
            cache.close()
