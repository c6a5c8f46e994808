"""The realtime cache as a plugin: :class:`RealtimeCache`.

It implements two hooks. ``ara_bind`` wraps each backend's bound operations once (see
:mod:`.wrap`): calls are then answered from the cache in plain Python, without hook dispatch.
``ara_close`` (a wrapper) drops the backend's store when its connection closes, which is how
``Realtime.close`` and ``Realtime.reload`` clear the cache. Stores are keyed by connection, so
re-binding after another plugin was added keeps what is cached.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..binding import Binding
from ..conditions import Condition
from ..errors import BackendError, ConfigError, QueryError
from ..hookspecs import hookimpl
from .coherence import Watcher
from .policy import CACHE_FILE, CacheConfig, CacheLimits, CachePolicy, read_cache_config
from .stats import BackendStats, CacheStats, FamilyStats, write_stats_file
from .store import FamilyState, Key, Store, _copy
from .wrap import Families, wrap_operations

if TYPE_CHECKING:
    from ..realtime import Realtime

__all__ = ["PolicyArg", "RealtimeCache", "cache_of", "configure_from_dir"]

log = logging.getLogger(__name__)
_clock = time.monotonic

#: A family's policy as given in code: a :class:`CachePolicy`, or its fields as a mapping.
PolicyArg = CachePolicy | cabc.Mapping[str, Any]


def _policy(family: str, value: PolicyArg) -> CachePolicy:
    if isinstance(value, CachePolicy):
        return value
    try:
        return CachePolicy(**value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cache policy of family {family!r}: {exc}") from None


class RealtimeCache:
    """A cache of the rows ``load`` and ``load_multi`` return, for the families it is given.

    ::

        cache = RealtimeCache({"sippeers": CachePolicy(ttl=120), "iaxpeers": {"ttl": 60}})
        cache.attach(rt)          # or: Realtime.from_config_dir reads realtime_cache.conf
        rt.load("sippeers", name="alice")   # read once, then answered from the cache
        cache.stats().family("sippeers").hits

    Attached to ``Realtime`` objects, it serves only those; registered on a plugin manager by
    itself (``Plugins.add_plugin`` or the ``ara_realtime.plugins`` entry point) it serves every
    ``Realtime`` using that manager.
    """

    def __init__(
        self,
        families: cabc.Mapping[str, PolicyArg] | None = None,
        limits: CacheLimits | None = None,
        *,
        source: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        #: Seconds, monotonic: what lifetimes are measured with (tests give their own).
        self.clock = clock
        config = CacheConfig(
            {name.lower(): _policy(name, p) for name, p in (families or {}).items()},
            limits if limits is not None else CacheLimits(),
            source,
        )
        self.lock = threading.RLock()
        self.name = f"ara-realtime-cache-{id(self):x}"
        self.entries = 0
        self.bytes = 0
        self._config = config
        self.limits = config.limits
        self._states: dict[str, FamilyState] = {}
        #: family as callers spell it -> its state (``None``: not cached); read by the hot path
        self._families: Families = {}
        self._stores: dict[int, Store] = {}
        self._watchers: dict[int, Watcher] = {}
        self._owners: weakref.WeakSet[Realtime] | None = None
        self._plugin_managers: weakref.WeakSet[Any] = weakref.WeakSet()
        self._maintenance: _Maintenance | None = None
        #: held while the counters' file is written or removed
        self._stats_lock = threading.Lock()
        self._set_policies(config.families)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> RealtimeCache:
        """A cache configured by a ``realtime_cache.conf`` file (``ConfigError`` if invalid)."""
        config = read_cache_config(path)
        return cls(config.families, config.limits, source=config.source)

    def __repr__(self) -> str:
        return f"<RealtimeCache {sorted(self._config.families)} {self.entries} entries>"

    @property
    def config(self) -> CacheConfig:
        return self._config

    @property
    def policies(self) -> dict[str, CachePolicy]:
        """Family (lower case) -> its policy."""
        return dict(self._config.families)

    # -- attaching and configuring ----------------------------------------------------------

    def attach(self, rt: Realtime) -> RealtimeCache:
        """Cache the families of ``rt`` (registers this plugin on ``rt.plugins`` if needed)."""
        with self.lock:
            if self._owners is None:
                self._owners = weakref.WeakSet()
            known = rt in self._owners
            self._owners.add(rt)
        self._register(rt.plugins)
        if not known:  # a Realtime dropped without detach: the plugin leaves with the last one
            weakref.finalize(rt, self._owner_gone, weakref.ref(rt.plugins))
        return self

    def _owner_gone(self, plugins_ref: weakref.ref[Any]) -> None:
        plugins = plugins_ref()
        if plugins is None:
            return
        with self.lock:
            owners = self._owners
            still = owners is None or any(o.plugins is plugins for o in owners)
        if not still and plugins.pm.is_registered(self):
            plugins.remove_plugin(self.name)
            self._plugin_managers.discard(plugins)

    def detach(self, rt: Realtime) -> None:
        """Stop caching for ``rt`` and drop what was cached for it; the plugin leaves
        ``rt.plugins`` when no other ``Realtime`` it serves uses that manager."""
        plugins = rt.plugins
        with self.lock:
            if self._owners is not None:
                self._owners.discard(rt)
            stale = [k for k, s in self._stores.items() if s.owner() is rt]
            shared = self._owners is None or any(o.plugins is plugins for o in self._owners)
        for key in stale:
            self._drop_store(key)
        if not shared and plugins.pm.is_registered(self):
            plugins.remove_plugin(self.name)  # rt binds again, without the cache
            self._plugin_managers.discard(plugins)
        else:
            self._rebind()

    def _register(self, plugins: Any) -> None:
        if not plugins.pm.is_registered(self):
            plugins.add_plugin(self, name=self.name)
        self._plugin_managers.add(plugins)

    def _rebind(self) -> None:
        """Make every ``Realtime`` using this plugin bind its backends again."""
        for plugins in list(self._plugin_managers):
            if plugins.pm.is_registered(self):
                plugins.remove_plugin(self.name)
                plugins.add_plugin(self, name=self.name)

    def configure(
        self,
        families: cabc.Mapping[str, PolicyArg],
        limits: CacheLimits | None = None,
        *,
        source: str | None = None,
    ) -> None:
        """Replace the policies (and limits): what was cached is dropped, counters are kept."""
        config = CacheConfig(
            {name.lower(): _policy(name, p) for name, p in families.items()},
            limits if limits is not None else self.limits,
            source,
        )
        for key in list(self._stores):
            self._drop_store(key)
        with self.lock:
            self._config = config
            self.limits = config.limits
            self._set_policies(config.families)
        self._rebind()

    def _set_policies(self, policies: cabc.Mapping[str, CachePolicy]) -> None:
        with self.lock:
            for name, policy in policies.items():
                state = self._states.get(name)
                if state is None:
                    self._states[name] = FamilyState(name, policy)
                else:
                    state.policy = policy
            self._families.clear()

    def _resolve(self, family: str) -> FamilyState | None:
        """The state of ``family`` however it is spelled (remembered for the hot path)."""
        name = family.lower()
        state = self._states.get(name) if name in self._config.families else None
        self._families[family] = state
        return state

    # -- the hooks ----------------------------------------------------------------------------

    @hookimpl
    def ara_bind(self, binding: Binding) -> None:
        owners = self._owners
        if owners is not None and binding.realtime not in owners:
            return
        cached = {f: t for f, t in binding.tables.items() if f in self._config.families}
        if not cached:
            return  # nothing of this backend is cached: leave its calls as they are
        store = self._store_for(binding, cached)
        wrap_operations(binding.ops, store, self._families, self._resolve)

    @hookimpl(wrapper=True)
    def ara_close(self, connection: Any) -> Generator[None, Any, Any]:
        self._drop_store(id(connection))
        return (yield)

    def _store_for(self, binding: Binding, cached: dict[str, str]) -> Store:
        """The backend's store, made ready (its tables' coherence set) before anyone uses it."""
        key = id(binding.connection)
        existing = self._stores.get(key)
        if existing is not None:
            return existing
        watch: dict[str, str | None] = {}
        for family, table in cached.items():
            policy = self._config.families[family]
            if policy.coherence == "ttl":
                continue
            key_column = None if binding.capabilities.case_insensitive else policy.key
            if table in watch and watch[table] != key_column:
                key_column = None  # families disagree on the key: changes name no column
            watch[table] = key_column
        feed = None
        if watch:
            try:
                feed = binding.change_feed()  # the contract: it does not talk to the storage
            except Exception:
                log.exception("cache %s: ara_change_feed failed; rows kept by ttl", binding.label)
        with self.lock:
            existing = self._stores.get(key)
            if existing is not None:  # another thread bound the same backend meanwhile
                return existing
            store = Store(
                self,
                binding.label,
                case_insensitive=binding.capabilities.case_insensitive,
                connection=binding.connection,
                owner=weakref.ref(binding.realtime),
            )
            if feed is not None:
                store.watch(watch, feed.kind)
                watcher = Watcher(store, feed, self.limits.poll_interval)
                self._watchers[key] = watcher
                watcher.start()
            else:
                strict = sorted(f for f in cached if self._config.families[f].coherence == "feed")
                if strict:
                    log.warning(
                        "cache %s: coherence = feed for %s, but driver %r has no change feed: "
                        "their rows are not cached",
                        store.label,
                        ", ".join(strict),
                        binding.driver,
                    )
                    store.watch({cached[f]: None for f in strict}, "none")
                    store.set_feed("down")
            self._stores[key] = store  # published ready: no call sees it half set up
        # the Realtime may be dropped without close(): the store goes with it
        weakref.finalize(binding.realtime, self._drop_store, key)
        if self.limits.stats_dir is not None:
            self._maintenance_thread()
        return store

    def _drop_store(self, key: int) -> None:
        with self.lock:
            store = self._stores.pop(key, None)
            watcher = self._watchers.pop(key, None)
            idle = store is not None and not self._stores
        if watcher is not None:
            watcher.stop()
        if store is not None:
            store.close()
        if idle:
            self._idle()

    def _idle(self) -> None:
        """No open connection is served any more (``Realtime.close()``, or the last
        ``Realtime`` dropped): stop the maintenance thread and remove the counters' file.
        Counters stay; both come back when a connection is served again."""
        with self.lock:
            if self._stores:
                return  # served again meanwhile
            maintenance, self._maintenance = self._maintenance, None
        if maintenance is not None:
            maintenance.stop()
        self._remove_stats_file()

    def _remove_stats_file(self) -> None:
        directory = self.limits.stats_dir
        if directory is None:
            return
        with self._stats_lock, self.lock:
            if self._maintenance is not None:
                return  # a new thread is publishing: its file stays
            with contextlib.suppress(OSError):
                self._stats_path(directory).unlink(missing_ok=True)

    # -- background reads (stale_while_revalidate) and the counters' file ---------------------

    def _maintenance_thread(self) -> _Maintenance:
        with self.lock:
            if self._maintenance is None or not self._maintenance.alive:
                self._maintenance = _Maintenance(self)
                self._maintenance.start()
            return self._maintenance

    def refresh_later(
        self,
        store: Store,
        fam: FamilyState,
        call: tuple[str, str, tuple[Condition, ...]],
        key: Key,
        inner: Callable[..., Any],
    ) -> bool:
        """Queue a background read of an expired entry (``call``: family, table, conditions);
        ``False`` if the queue is full."""
        return self._maintenance_thread().submit(
            (id(store), key), lambda: self._refresh(store, fam, call, key, inner)
        )

    def _refresh(
        self,
        store: Store,
        fam: FamilyState,
        call: tuple[str, str, tuple[Condition, ...]],
        key: Key,
        inner: Callable[..., Any],
    ) -> None:
        family, table, conditions = call
        if store.closed:
            return
        fam.refreshes += 1
        ts = store.table(table)
        gen = ts.gen
        try:
            value = inner(family, table, conditions)
        except BackendError as exc:  # the entry stays: a failing backend never evicts
            store.down_until = max(store.down_until, self.clock() + self.limits.error_retry)
            log.debug("cache %s: background read failed: %s", store.label, exc)
            return
        except QueryError:
            with store.lock:
                store._drop(key)
            return
        if value is None or type(value) is dict or type(value) is list:
            store.put(fam, ts, gen, key, conditions, value=_copy(value))

    def publish(self) -> None:
        """Write the counters to ``stats_dir`` now (the maintenance thread does it regularly)."""
        directory = self.limits.stats_dir
        if directory is None:
            return
        with self._stats_lock:  # never after the file was removed for good
            try:
                directory.mkdir(parents=True, exist_ok=True)
                write_stats_file(self._stats_path(directory), self.stats())
            except OSError as exc:
                log.warning("cache: cannot write its counters to %s: %s", directory, exc)

    def _stats_path(self, directory: Path) -> Path:
        return directory / f"{os.getpid()}-{id(self):x}.json"

    # -- bounds -------------------------------------------------------------------------------

    def added(self, size: int) -> None:
        self.entries += 1
        self.bytes += size

    def removed(self, size: int) -> None:
        self.entries -= 1
        self.bytes -= size

    def make_room(self, store: Store) -> None:
        """Evict until the cache is within its bounds (the lock is held)."""
        limits = self.limits
        while self.entries > limits.max_entries or self.bytes > limits.max_memory:
            victim = max(self._stores.values(), key=lambda s: len(s.entries), default=store)
            if not victim.evict_one() and not store.evict_one():
                break

    # -- reading and clearing -----------------------------------------------------------------

    def stats(self) -> CacheStats:
        """Counters per family, state per backend, and the totals."""
        with self.lock:
            per_family: dict[str, list[int]] = {name: [0, 0] for name in self._states}
            backends = []
            for store in self._stores.values():
                for entry in store.entries.values():
                    counts = per_family.setdefault(entry.fam.name, [0, 0])
                    counts[0] += 1
                    counts[1] += entry.size
                backends.append(
                    BackendStats(
                        backend=store.label,
                        feed=store.feed_kind,
                        bound=store.feed_bound,
                        tables={t: ts.feed for t, ts in sorted(store.tables.items())},
                        changes=store.changes,
                        lost_track=store.lost_track,
                        feed_errors=store.feed_errors,
                        last_error=store.last_error,
                        entries=len(store.entries),
                        bytes=store.bytes,
                    )
                )
            families = tuple(
                FamilyStats(
                    family=s.name,
                    hits=s.hits,
                    negative_hits=s.negative_hits,
                    misses=s.misses,
                    stale_hits=s.stale_hits,
                    error_hits=s.error_hits,
                    refreshes=s.refreshes,
                    invalidations=s.invalidations,
                    evictions=s.evictions,
                    entries=per_family[s.name][0],
                    bytes=per_family[s.name][1],
                )
                for s in sorted(self._states.values(), key=lambda s: s.name)
                if s.name in self._config.families or s.hits or s.misses
            )
            return CacheStats(
                families=families,
                backends=tuple(backends),
                entries=self.entries,
                bytes=self.bytes,
                max_entries=self.limits.max_entries,
                max_memory=self.limits.max_memory,
                source=self._config.source,
            )

    def clear(self) -> None:
        """Drop every cached answer (counters are kept)."""
        for store in list(self._stores.values()):
            store.clear()

    def wait_coherent(self, timeout: float = 5.0) -> bool:
        """Wait until every backend's change feed listens; ``False`` if one did not in time."""
        deadline = _clock() + timeout
        for watcher in list(self._watchers.values()):
            if not watcher.live.wait(max(0.0, deadline - _clock())):
                return False
        return True

    def close(self) -> None:
        """Stop the cache's threads and drop everything cached; the ``Realtime`` objects it
        serves bind again, so it starts afresh if they are used."""
        for key in list(self._stores):
            self._drop_store(key)
        self._rebind()
        with self.lock:
            maintenance, self._maintenance = self._maintenance, None
        if maintenance is not None:
            maintenance.stop()
        self._remove_stats_file()


class _Maintenance:
    """One thread per cache: background reads, and the counters written to ``stats_dir``."""

    QUEUE = 1024

    def __init__(self, cache: RealtimeCache) -> None:
        self.cache = cache
        self.queue: queue.Queue[tuple[Any, Callable[[], None]] | None] = queue.Queue(self.QUEUE)
        self.pending: set[Any] = set()
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="ara-cache-maintenance", daemon=True)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        with contextlib.suppress(queue.Full):
            self.queue.put(None, timeout=timeout)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def submit(self, token: Any, task: Callable[[], None]) -> bool:
        with self.lock:
            if token in self.pending:
                return True  # already being read again
            self.pending.add(token)
        try:
            self.queue.put_nowait((token, task))
        except queue.Full:
            with self.lock:
                self.pending.discard(token)
            return False
        return True

    def _run(self) -> None:
        cache = self.cache
        interval = cache.limits.stats_interval
        next_publish = _clock()
        while True:
            if cache.limits.stats_dir is not None and _clock() >= next_publish:
                cache.publish()
                next_publish = _clock() + interval
            try:
                item = self.queue.get(timeout=max(0.01, next_publish - _clock()))
            except queue.Empty:
                continue
            if item is None:
                return
            token, task = item
            try:
                task()
            except Exception:
                log.exception("cache: a background read failed")
            finally:
                with self.lock:
                    self.pending.discard(token)


def configure_from_dir(rt: Realtime) -> Callable[[], None]:
    """Read ``realtime_cache.conf`` of ``rt``'s configuration directory; return what applies it.

    Reading comes first (a ``ConfigError`` changes nothing); the returned callable attaches a
    cache, reconfigures the one attached before, or switches it off when the file is gone.
    """
    assert rt.config_dir is not None
    path = rt.config_dir / CACHE_FILE
    config = read_cache_config(path) if path.exists() else None
    current = cache_of(rt)

    def apply() -> None:
        if config is None:
            if current is not None and current.config.source is not None:
                current.configure({}, source=None)
            return
        if current is None:
            RealtimeCache(config.families, config.limits, source=config.source).attach(rt)
        else:
            current.configure(config.families, config.limits, source=config.source)

    return apply


def cache_of(rt: Realtime) -> RealtimeCache | None:
    """The :class:`RealtimeCache` serving ``rt``, if any."""
    for _name, plugin in rt.plugins.pm.list_name_plugin():
        if isinstance(plugin, RealtimeCache):
            owners = plugin._owners
            if owners is None or rt in owners:
                return plugin
    return None
