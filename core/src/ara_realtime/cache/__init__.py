"""The realtime cache: rows that ``load`` and ``load_multi`` read, kept coherent across hosts.

A plugin (:class:`RealtimeCache`) that works with every driver: switched on per family in code
or in ``realtime_cache.conf`` (:mod:`.policy`), it answers repeated reads from memory, keeps
"no such row" for its own lifetime, serves expired rows while reading them again or while the
backend fails (a backend error never drops a cached row), and drops what writes through the
API and changes reported by the storage's change feed (:mod:`ara_realtime.changes`) may have
made wrong. See ``docs/cache.md``.
"""

from __future__ import annotations

from . import coherence
from .plugin import PolicyArg, RealtimeCache, cache_of, configure_from_dir
from .policy import CACHE_FILE, CacheConfig, CacheLimits, CachePolicy, Coherence, read_cache_config
from .setup import FeedReport, feed_status, install_change_feeds, remove_change_feeds
from .stats import BackendStats, CacheStats, FamilyStats, read_stats_dir
from .wrap import uncached

__all__ = [
    "CACHE_FILE",
    "BackendStats",
    "CacheConfig",
    "CacheLimits",
    "CachePolicy",
    "CacheStats",
    "Coherence",
    "FamilyStats",
    "FeedReport",
    "PolicyArg",
    "RealtimeCache",
    "cache_of",
    "coherence",
    "configure_from_dir",
    "feed_status",
    "install_change_feeds",
    "read_cache_config",
    "read_stats_dir",
    "remove_change_feeds",
    "uncached",
]
