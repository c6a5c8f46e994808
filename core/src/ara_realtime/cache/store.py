"""Cached answers of one backend: entries, their index by table and key, bounds, invalidation.

A :class:`Store` serves one backend (one open connection of one ``Realtime``). Its entries are
keyed by the call (``(table, conditions)`` for ``load``, with a third element for
``load_multi``) and indexed by table, then by the value of the family's key column when the
conditions pin it (``name = 'alice'``), so that a change to one row drops only the answers that
could have included it. Hits read the entry without a lock; everything that changes the store
takes the cache's lock.

Coherence per table (:attr:`TableState.feed`): ``none`` (no change feed: entries live their
``ttl``, or are not kept under ``coherence = feed``), ``pending`` and ``down`` (a feed exists
but is not listening: answers are kept only to answer backend errors, never served as
fresh), ``live`` (the feed reports every change: entries live their ``ttl``).

Whatever the feed does, an entry read at ``t`` answers a backend error until
``t + ttl + stale_if_error`` (:attr:`Entry.ends`): a feed that stops listening ends its
freshness at once, not the time it may answer an outage.
"""

from __future__ import annotations

import collections
import sys
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

from ..changes import Change
from ..conditions import Condition
from ..errors import BackendError, QueryError
from .policy import CachePolicy

if TYPE_CHECKING:
    from .plugin import RealtimeCache

__all__ = ["Entry", "FamilyState", "Store", "TableState"]

#: A cache key: ``(table, conditions)`` or ``(table, conditions, True)`` for ``load_multi``.
Key = tuple[Any, ...]
FeedState = Literal["none", "pending", "live", "down"]

#: Bytes counted per entry besides its value (the entry, its key tuple, the index slots).
_OVERHEAD = 240


class FamilyState:
    """A family's policy and counters (one per family and cache, shared by its backends).

    Counters are plain integers bumped without a lock on the hot path: exact in one thread,
    and under heavy contention between threads an increment may rarely be lost.
    """

    __slots__ = (
        "error_hits",
        "evictions",
        "hits",
        "invalidations",
        "misses",
        "name",
        "negative_hits",
        "policy",
        "refreshes",
        "stale_hits",
    )

    def __init__(self, name: str, policy: CachePolicy) -> None:
        self.name = name
        self.policy = policy
        self.hits = 0  # answered from the cache as fresh (negative_hits included)
        self.negative_hits = 0  # of which "no row"
        self.misses = 0  # read from the backend
        self.stale_hits = 0  # expired, answered while a background read refreshes it
        self.error_hits = 0  # expired, answered because the backend failed
        self.refreshes = 0  # background reads (stale_while_revalidate)
        self.invalidations = 0  # dropped by a write, a reported change or unload
        self.evictions = 0  # dropped to stay within max_entries / max_memory


class Entry:
    __slots__ = (
        "column",
        "ends",
        "expires",
        "fam",
        "key",
        "pin",
        "size",
        "table",
        "used",
        "value",
    )

    def __init__(
        self,
        key: Key,
        value: Any,
        expires: float,
        fam: FamilyState,
        *,
        table: str,
        column: str | None,
        pin: str | None,
        size: int,
        ends: float | None = None,
    ) -> None:
        self.key = key
        self.value = value
        #: until when it is answered as fresh (brought forward when a feed stops listening)
        self.expires = expires
        #: when its ttl ends, counted from the read whatever the feed did since: it answers
        #: a backend error until ``ends + stale_if_error``
        self.ends = expires if ends is None else ends
        self.fam = fam
        self.table = table
        self.column = column  # the key column the entry is pinned on (None: not pinned)
        self.pin = pin
        self.size = size
        self.used = False  # set by hits: a second chance before eviction


class TableState:
    """The entries of one table, indexed, and how changes to the table reach the store."""

    __slots__ = ("feed", "gen", "name", "pinned", "unpinned")

    def __init__(self, name: str, feed: FeedState) -> None:
        self.name = name
        #: bumped by every invalidation: a read that started before it is not kept
        self.gen = 0
        self.feed: FeedState = feed
        self.pinned: dict[str, dict[str, set[Key]]] = {}  # column -> value -> keys
        self.unpinned: set[Key] = set()

    def keys(self) -> list[Key]:
        out = list(self.unpinned)
        for by_value in self.pinned.values():
            for keys in by_value.values():
                out.extend(keys)
        return out

    def matching(self, change: Change) -> list[Key]:
        """Keys of the entries ``change`` may affect."""
        if change.column is None or change.values is None:
            return self.keys()
        out = list(self.unpinned)
        for column, by_value in self.pinned.items():
            if column != change.column:
                for keys in by_value.values():
                    out.extend(keys)
                continue
            for value in change.values:
                found = by_value.get(value)
                if found:
                    out.extend(found)
        return out


def _copy(value: Any) -> Any:
    """What a caller gets: its own copy (callers may change the rows they are given)."""
    if type(value) is dict:
        return value.copy()
    if type(value) is list:
        return [row.copy() if type(row) is dict else row for row in value]
    return value  # None, or what a driver returned that the cache does not keep


def _size(key: Key, value: Any) -> int:
    """Estimated bytes of an entry: column names are shared, values are not."""
    size = _OVERHEAD + sum(sys.getsizeof(c.value) for c in key[1])
    rows = () if value is None else (value,) if type(value) is dict else value
    if type(value) is list:
        size += sys.getsizeof(value)
    for row in rows:
        size += sys.getsizeof(row) + sum(map(sys.getsizeof, row.values()))
    return size


def pin_of(conditions: tuple[Condition, ...], column: str | None) -> str | None:
    """The value ``conditions`` fix for ``column`` (``column = value``), if they do.

    A value with surrounding spaces is not pinned: some column types compare without them.
    """
    if column is None:
        return None
    for c in conditions:
        if c.column == column and c.op == "=":
            value = c.value
            return value if value == value.strip() else None
    return None


def write_pins(
    conditions: tuple[Condition, ...], values: Iterable[tuple[str, str]], column: str | None
) -> frozenset[str] | None:
    """Key values of the rows a write may touch, or ``None`` (any row of the table)."""
    if column is None:
        return None
    pins: set[str] = set()
    for c in conditions:
        if c.column == column and c.op == "=":
            pins.add(c.value)
            break
    else:
        if conditions:
            return None
        pins.add("")  # a store without the key column: a row whose key is NULL
    for name, value in values:
        if name == column:
            pins.add(value)
    if any(p != p.strip() for p in pins):
        return None
    return frozenset(pins)


class Store:
    """The cached answers of one backend, and its coherence state."""

    def __init__(
        self,
        cache: RealtimeCache,
        label: str,
        *,
        case_insensitive: bool,
        connection: Any = None,
        owner: Callable[[], Any] | None = None,
    ) -> None:
        self.cache = cache
        self.label = label
        #: seconds, monotonic (the cache's clock: tests give their own)
        self.clock: Callable[[], float] = cache.clock
        #: the backend's connection: held so that its id() keys this store while it lives
        self.connection = connection
        #: the Realtime the backend belongs to (a weak reference)
        self.owner: Callable[[], Any] = owner if owner is not None else (lambda: None)
        self.lock: threading.RLock = cache.lock
        self.entries: collections.OrderedDict[Key, Entry] = collections.OrderedDict()
        self.tables: dict[str, TableState] = {}
        self.bytes = 0
        self.case_insensitive = case_insensitive
        #: after a backend error, until when expired entries are answered without asking it
        self.down_until = 0.0
        #: table -> the key column the feed is asked to name (see :meth:`watch`)
        self.watched: dict[str, str | None] = {}
        self.feed_kind = "none"
        self.feed_bound: float | None = None
        self.changes = 0
        self.lost_track = 0
        self.feed_errors = 0
        self.last_error: str | None = None
        self.closed = False

    def __repr__(self) -> str:
        return f"<cache store {self.label} {len(self.entries)} entries>"

    # -- looking up ---------------------------------------------------------------------

    def table(self, name: str) -> TableState:
        ts = self.tables.get(name)
        if ts is None:
            with self.lock:
                ts = self.tables.get(name)
                if ts is None:
                    ts = self.tables[name] = TableState(name, "none")
        return ts

    def watch(self, tables: dict[str, str | None], kind: str) -> None:
        """A change feed of ``kind`` will watch ``tables``: not trusted until it listens."""
        with self.lock:
            self.watched = dict(tables)
            self.feed_kind = kind
            for name in tables:
                self.table(name).feed = "pending"

    def verified(self, ts: TableState, policy: CachePolicy) -> bool:
        """True if answers read now may be served for their whole ``ttl``."""
        if policy.coherence == "ttl" or ts.feed == "live":
            return True
        return ts.feed == "none" and policy.coherence == "auto"

    def fetch(
        self,
        fam: FamilyState,
        family: str,
        table: str,
        conditions: tuple[Condition, ...],
        key: Key,
        *,
        inner: Callable[..., Any],
    ) -> Any:
        """The answer for a call the hot path could not serve (absent or expired)."""
        e = self.entries.get(key)
        if e is not None:
            policy = fam.policy
            now = self.clock()
            late = now - e.expires
            if late < 0:  # made fresh meanwhile
                e.used = True
                fam.hits += 1
                return _copy(e.value)
            if (
                late < policy.stale_while_revalidate
                and not self.closed
                and self.cache.refresh_later(self, fam, (family, table, conditions), key, inner)
            ):
                fam.stale_hits += 1
                return _copy(e.value)
            if now < self.down_until and now - e.ends < policy.stale_if_error:
                fam.error_hits += 1
                return _copy(e.value)
        fam.misses += 1
        return self.read(fam, family, table, conditions, key, inner=inner)

    def read(
        self,
        fam: FamilyState,
        family: str,
        table: str,
        conditions: tuple[Condition, ...],
        key: Key,
        *,
        inner: Callable[..., Any],
    ) -> Any:
        """Ask the backend and keep the answer; an expired entry answers a backend error."""
        ts = self.table(table)
        gen = ts.gen
        try:
            value = inner(family, table, conditions)
        except BackendError:
            now = self.clock()
            self.down_until = now + self.cache.limits.error_retry
            e = self.entries.get(key)
            if e is not None and now - e.ends < fam.policy.stale_if_error:
                fam.error_hits += 1
                return _copy(e.value)
            raise
        except QueryError:
            with self.lock:
                self._drop(key)
            raise
        if self.down_until:
            self.down_until = 0.0
        if value is None or type(value) is dict or type(value) is list:
            self.put(fam, ts, gen, key, conditions, value=value)
            return _copy(value)
        return value  # not a plain row or list: passed through, not kept

    def put(
        self,
        fam: FamilyState,
        ts: TableState,
        gen: int,
        key: Key,
        conditions: tuple[Condition, ...],
        *,
        value: Any,
    ) -> None:
        policy = fam.policy
        ttl = policy.negative_ttl if not value else policy.ttl
        verified = self.verified(ts, policy)
        with self.lock:
            if self.closed:
                return
            if ts.gen != gen:  # a change was reported while reading: the answer may be older
                return
            if not verified and policy.stale_if_error <= 0:
                self._drop(key)
                return
            if ttl <= 0:
                self._drop(key)
                return
            now = self.clock()
            column = None if self.case_insensitive else policy.key
            pin = pin_of(conditions, column)
            self._drop(key)
            entry = Entry(
                key,
                value,
                now + ttl if verified else now,
                fam,
                table=ts.name,
                column=column if pin is not None else None,
                pin=pin,
                size=_size(key, value),
                ends=now + ttl,
            )
            self.entries[key] = entry
            if pin is None:
                ts.unpinned.add(key)
            else:
                assert column is not None
                ts.pinned.setdefault(column, {}).setdefault(pin, set()).add(key)
            self.bytes += entry.size
            self.cache.added(entry.size)
            self.cache.make_room(self)

    # -- dropping -----------------------------------------------------------------------

    def _drop(self, key: Key) -> Entry | None:
        """Remove one entry and its index slot (the lock is held)."""
        entry = self.entries.pop(key, None)
        if entry is None:
            return None
        ts = self.tables.get(entry.table)
        if ts is not None:
            if entry.column is None:
                ts.unpinned.discard(key)
            else:
                by_value = ts.pinned.get(entry.column)
                if by_value is not None:
                    keys = by_value.get(entry.pin or "")
                    if keys is not None:
                        keys.discard(key)
                        if not keys:
                            del by_value[entry.pin or ""]
        self.bytes -= entry.size
        self.cache.removed(entry.size)
        return entry

    def evict_one(self) -> bool:
        """Evict the oldest entry not used since it last had a chance (the lock is held)."""
        entries = self.entries
        for _ in range(len(entries) + 1):
            if not entries:
                return False
            key, entry = next(iter(entries.items()))
            if entry.used:
                entry.used = False
                entries.move_to_end(key)
                continue
            self._drop(key)
            entry.fam.evictions += 1
            return True
        return False

    def invalidate(self, changes: Iterable[Change]) -> int:
        """Drop what ``changes`` may have made wrong; entries dropped."""
        dropped = 0
        with self.lock:
            for change in changes:
                ts = self.tables.get(change.table)
                if ts is None:
                    continue
                ts.gen += 1
                for key in ts.matching(change):
                    entry = self._drop(key)
                    if entry is not None:
                        entry.fam.invalidations += 1
                        dropped += 1
        return dropped

    def written(
        self,
        table: str,
        conditions: tuple[Condition, ...],
        values: Iterable[tuple[str, str]] = (),
    ) -> None:
        """A write through this backend finished (or failed): drop what it may have changed."""
        ts = self.tables.get(table)
        if ts is None:  # nothing was ever read from it: nothing to drop, no read to outdate
            return
        values = tuple(values)
        with self.lock:
            columns: list[str | None] = [*ts.pinned] or [None]
        # one change per key column entries are pinned on (each drops the unpinned ones too)
        self.invalidate(
            Change(table, column, pins)
            if (pins := write_pins(conditions, values, column)) is not None
            else Change(table)
            for column in columns
        )

    def clear_table(self, table: str) -> bool:
        """Drop every entry of ``table`` (``unload``); ``True`` if there was one."""
        with self.lock:
            ts = self.tables.get(table)
            if ts is None:
                return False
            ts.gen += 1
            keys = ts.keys()
            for key in keys:
                entry = self._drop(key)
                if entry is not None:
                    entry.fam.invalidations += 1
            return bool(keys)

    def clear(self) -> None:
        with self.lock:
            for ts in self.tables.values():
                ts.gen += 1
            for key in list(self.entries):
                self._drop(key)

    def expire_all(self) -> None:
        """Any row may have changed unseen: nothing is fresh any more (kept for errors only)."""
        now = self.clock()
        with self.lock:
            for ts in self.tables.values():
                ts.gen += 1
            for entry in self.entries.values():
                entry.expires = min(entry.expires, now)

    # -- coherence ----------------------------------------------------------------------

    def set_feed(self, state: FeedState, tables: Iterable[str] | None = None) -> None:
        """Move the watched tables (or only ``tables``) to ``state``; entries read before it
        are not trusted beyond that moment."""
        with self.lock:
            names = set(self.watched if tables is None else tables)
            for name in names:
                self.table(name).feed = state
            self.expire_tables(names)

    def expire_tables(self, names: Iterable[str]) -> None:
        now = self.clock()
        with self.lock:
            names = set(names)
            for name in names:
                ts = self.tables.get(name)
                if ts is not None:
                    ts.gen += 1
            for entry in self.entries.values():
                if entry.table in names and entry.expires > now:
                    entry.expires = now

    def close(self) -> None:
        with self.lock:
            self.closed = True
        self.clear()
