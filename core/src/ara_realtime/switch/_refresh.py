"""Snapshots of (family, context), never older than ``refresh`` seconds when used.

A context is read whole (``load_multi`` on ``context``, the query a look-up would need
anyway) and compared with the snapshot's rows: unchanged, the snapshot and the indexes built
from it stay; changed, a new snapshot replaces it. The public API offers no cheaper
fingerprint that works on every driver (no count, no ``max``), so the bound is kept by time:

* rows younger than ``refresh / 2`` are used as they are;
* between ``refresh / 2`` and ``refresh`` they are used while a background thread re-reads
  the context, so under steady traffic no look-up waits for a re-read;
* from ``refresh`` on, the look-up re-reads (or waits for the re-read under way).

A snapshot's age counts from the moment its re-read *started*, so no look-up ever uses rows
read more than ``refresh`` seconds before it began. Re-reads go past the realtime cache
(:func:`ara_realtime.cache.uncached`): a cached ``extensions`` family's ``ttl`` would
otherwise stretch that bound. The one exception is a failing storage:
then the last rows are served (logged once per failure streak) and re-reading is retried in
the background every ``refresh / 2`` seconds, so a dead server does not stall every call.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time

from ..cache.wrap import uncached
from ..errors import BackendError, RealtimeError
from ..realtime import Realtime
from ._context import ContextSnapshot

__all__ = ["ContextStore"]

log = logging.getLogger("ara_realtime.switch")
_now = time.monotonic
_NEVER = float("-inf")


class _State:
    __slots__ = ("checked", "failing", "lock", "retry_at", "snapshot")

    def __init__(self) -> None:
        self.lock = threading.Lock()  # held while the context is re-read
        self.snapshot: ContextSnapshot | None = None
        self.checked = _NEVER  # when the last successful re-read started
        self.failing = False
        self.retry_at = _NEVER


class ContextStore:
    """The snapshots one switch uses (thread-safe)."""

    def __init__(self, rt: Realtime, refresh: float) -> None:
        self.rt = rt
        self.refresh = refresh
        self._half = refresh / 2
        self._states: dict[tuple[str, str], _State] = {}
        self._lock = threading.Lock()
        self._generation = itertools.count(1)

    def _state(self, family: str, context: str) -> _State:
        key = (family.lower(), context)
        state = self._states.get(key)
        if state is None:
            with self._lock:
                state = self._states.setdefault(key, _State())
        return state

    def current(self, family: str, context: str) -> ContextSnapshot:
        """For a look-up: the snapshot, re-read in the background or first (module doc)."""
        state = self._state(family, context)
        snapshot = state.snapshot
        if snapshot is not None:
            now = _now()
            age = now - state.checked
            if age < self._half:
                return snapshot
            if state.failing:
                if now >= state.retry_at:
                    self._start(state, family, context)
                return snapshot
            if age < self.refresh:
                self._start(state, family, context)
                return snapshot
        return self.fresh(family, context, state)

    def fresh(self, family: str, context: str, state: _State | None = None) -> ContextSnapshot:
        """The snapshot, re-read now unless it is younger than ``refresh`` seconds."""
        if state is None:
            state = self._state(family, context)
        with state.lock:  # waits for a re-read under way
            snapshot = state.snapshot
            if snapshot is not None and (_now() - state.checked < self.refresh or state.failing):
                return snapshot
            return self._reread(state, family, context)

    def _start(self, state: _State, family: str, context: str) -> None:
        if not state.lock.acquire(blocking=False):
            return  # a re-read is under way
        try:
            thread = threading.Thread(
                target=self._background,
                args=(state, family, context),
                name=f"ara-switch-reread-{context}",
                daemon=True,
            )
            thread.start()
        except BaseException:
            state.lock.release()
            raise

    def _background(self, state: _State, family: str, context: str) -> None:
        try:
            self._reread(state, family, context)
        except RealtimeError as exc:  # mapping gone, column missing: keep serving, say so
            self._failed(state, family, context, exc)
        except Exception:  # a bug: never lose it in a thread
            log.exception("realtime switch: re-reading context %r of %r failed", context, family)
            self._failed(state, family, context, None)
        finally:
            state.lock.release()

    def _failed(self, state: _State, family: str, context: str, exc: BaseException | None) -> None:
        snapshot = state.snapshot
        if not state.failing and snapshot is not None and exc is not None:
            log.warning(
                "realtime switch: cannot re-read context %r of family %r (%s); serving the "
                "rows read %.0f s ago until it answers",
                context,
                family,
                exc,
                _now() - snapshot.loaded_at,
            )
        state.failing = True
        state.retry_at = _now() + self._half

    def _reread(self, state: _State, family: str, context: str) -> ContextSnapshot:
        """Read the context and keep or replace the snapshot (the caller holds the lock)."""
        started = _now()
        snapshot = state.snapshot
        try:
            with uncached():  # a cached family's ttl must not stretch the bound kept here
                rows = self.rt.load_multi(family, ("context", context))
        except BackendError as exc:
            if snapshot is None:
                raise
            self._failed(state, family, context, exc)
            return snapshot
        if state.failing:
            log.info("realtime switch: context %r of family %r read again", context, family)
            state.failing = False
        if snapshot is None or not snapshot.same_rows(rows):
            snapshot = ContextSnapshot(
                family,
                context,
                rows,
                generation=next(self._generation),
                loaded_at=started,
                previous=snapshot,
            )
            if state.snapshot is not None:
                snapshot.warm(state.snapshot)
            state.snapshot = snapshot
        state.checked = started
        return snapshot

    def invalidate(self, family: str | None = None, context: str | None = None) -> None:
        fam = family.lower() if family is not None else None
        with self._lock:
            states = list(self._states.items())
        for (f, c), state in states:
            if (fam is None or f == fam) and (context is None or c == context):
                state.checked = _NEVER
                state.failing = False

    def clear(self) -> None:
        with self._lock:
            self._states.clear()

    def __len__(self) -> int:
        return len(self._states)
