"""Keeping a backend's cached answers coherent with changes made elsewhere.

One :class:`Watcher` thread per backend whose driver has a change feed
(:mod:`ara_realtime.changes`) and serves cached families. It subscribes to the feed for the
families' tables and drops what each reported change may have made wrong. While it is not
subscribed (starting, the storage unreachable, the feed's connection lost) the watched tables
are ``pending`` or ``down``: their answers are not served as fresh, only kept for
``stale_if_error``. When it subscribes, or the feed says it lost track, every answer read
before that moment is expired, since a change may have gone unseen.
"""

from __future__ import annotations

import logging
import threading
import time

from ..changes import ChangeFeed, Subscription
from ..errors import BackendError
from .store import Store

__all__ = ["Watcher"]

log = logging.getLogger(__name__)

#: Longest single wait on the feed: how soon the thread notices it should stop.
WAIT_SLICE = 0.2
#: Back-off between two failed subscriptions (doubling from the first to the last).
RETRY_FIRST, RETRY_MAX = 0.1, 5.0
#: How often tables the feed did not cover are checked again (``realtime cache install`` may
#: have been run since): when one is ready the watcher subscribes again, covering it.
RECHECK = 30.0


class Watcher:
    """The thread that applies one backend's reported changes to its store."""

    def __init__(self, store: Store, feed: ChangeFeed, interval: float) -> None:
        self.store = store
        self.feed = feed
        self.interval = interval
        self.live = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"ara-cache-watch {store.label}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to stop and wait for it (at most ``timeout`` seconds)."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        store = self.store
        retry = RETRY_FIRST
        failing = False
        while not self._stop.is_set():
            try:
                sub = self.feed.subscribe(store.watched, interval=self.interval)
            except BackendError as exc:
                self._failed(exc, first=not failing)
                failing = True
                self._stop.wait(retry)
                retry = min(retry * 2, RETRY_MAX)
                continue
            except Exception as exc:  # a bug in the driver's feed: stay correct, say so
                log.exception("cache %s: the change feed failed to subscribe", store.label)
                self._failed(exc, first=not failing)
                failing = True
                self._stop.wait(RETRY_MAX)
                continue
            if failing:
                log.info("cache %s: change feed listening again", store.label)
            failing = False
            retry = RETRY_FIRST
            try:
                self._listen(sub)
            except BackendError as exc:
                self._failed(exc, first=True)
                failing = True
            except Exception as exc:
                log.exception("cache %s: the change feed failed", store.label)
                self._failed(exc, first=True)
                failing = True
                self._stop.wait(RETRY_MAX)
            finally:
                self.live.clear()
                try:
                    sub.close()
                except Exception:
                    log.debug("cache %s: closing the feed failed", store.label, exc_info=True)

    def _listen(self, sub: Subscription) -> None:
        store = self.store
        covered = set(sub.tables)
        uncovered = set(store.watched) - covered
        store.feed_bound = sub.bound
        # answers read before the subscription may predate a change it would have reported
        store.set_feed("live", covered)
        if uncovered:
            store.set_feed("none", uncovered)
            log.warning(
                "cache %s: the change feed does not cover %s (run 'realtime cache install'); "
                "their rows are kept by ttl only, or not at all with coherence = feed",
                store.label,
                ", ".join(sorted(uncovered)),
            )
        self.live.set()
        recheck = time.monotonic() + RECHECK
        while not self._stop.is_set():
            changes = sub.wait(WAIT_SLICE)
            if changes is None:
                store.lost_track += 1
                store.expire_tables(covered)
            elif changes:
                store.changes += len(changes)
                store.invalidate(c for c in changes if c.table in covered)
            if uncovered and time.monotonic() >= recheck:
                recheck = time.monotonic() + RECHECK
                now_ready = self.feed.ready(uncovered)
                if now_ready:
                    log.info(
                        "cache %s: %s can be watched now; subscribing again",
                        store.label,
                        ", ".join(sorted(now_ready)),
                    )
                    store.set_feed("pending")  # not listening for a moment: not fresh
                    return

    def _failed(self, exc: BaseException, *, first: bool) -> None:
        store = self.store
        store.feed_errors += 1
        store.last_error = str(exc) or type(exc).__name__
        store.set_feed("down")
        if first:
            log.warning(
                "cache %s: change feed not listening (%s); cached rows are not served as "
                "fresh until it is",
                store.label,
                store.last_error,
            )
