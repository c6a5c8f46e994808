"""Installing (explicitly, never on the side) what a storage needs to report changes.

``realtime cache install`` and ``realtime cache remove`` call these. Each family's backends
are asked for their change feed (``Realtime.change_feeds``); a feed whose storage needs
something installed (PostgreSQL: triggers) installs it in :meth:`ChangeFeed.setup`; feeds that
need nothing (SQLite's ``data_version``) report their tables ready as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import BackendError, ConfigError, QueryError
from .plugin import cache_of

if TYPE_CHECKING:
    from ..realtime import Realtime

__all__ = ["FeedReport", "feed_status", "install_change_feeds", "remove_change_feeds"]


@dataclass(frozen=True)
class FeedReport:
    """One family on one backend: its table, the driver's feed, and whether it is watched."""

    family: str
    backend: str
    table: str
    #: the feed's kind (``notify``, ``poll``), or ``none`` when the driver has none
    feed: str
    #: the column the feed's changes name (the family's ``key``)
    key: str | None
    #: changes to the table are reported (set up where the storage needs it)
    ready: bool
    error: str | None = None


def _families(rt: Realtime, families: Iterable[str] | None) -> list[str]:
    if families is not None:
        names = list(families)
    else:
        cache = cache_of(rt)
        if cache is None:
            raise ConfigError(
                "no family named and no cache configured (realtime_cache.conf) to take them from"
            )
        names = sorted(cache.config.families)
    for name in names:
        if not rt.is_mapped(name):
            raise ConfigError(f"family {name!r} is not mapped in extconfig")
    return names


def _key(rt: Realtime, family: str) -> str | None:
    cache = cache_of(rt)
    policy = cache.config.families.get(family.lower()) if cache is not None else None
    return policy.key if policy is not None else "name"


def _each(rt: Realtime, families: Iterable[str] | None, action: str) -> list[FeedReport]:
    reports: list[FeedReport] = []
    done: dict[tuple[str, str], FeedReport] = {}
    for family in _families(rt, families):
        key = _key(rt, family)
        try:
            feeds = rt.change_feeds(family)
        except BackendError as exc:
            reports.append(FeedReport(family, "-", "-", "none", key, False, str(exc)))
            continue
        for backend, table, feed in feeds:
            earlier = done.get((backend, table))
            if earlier is not None:
                reports.append(FeedReport(family, backend, table, earlier.feed, key, earlier.ready))
                continue
            if feed is None:
                report = FeedReport(family, backend, table, "none", key, False)
            else:
                try:
                    if action == "install":
                        feed.setup({table: key})
                    elif action == "remove":
                        feed.teardown([table])
                    ready = table in feed.ready([table])
                    report = FeedReport(family, backend, table, feed.kind, key, ready)
                except (BackendError, QueryError) as exc:
                    report = FeedReport(family, backend, table, feed.kind, key, False, str(exc))
            done[(backend, table)] = report
            reports.append(report)
    return reports


def install_change_feeds(rt: Realtime, families: Iterable[str] | None = None) -> list[FeedReport]:
    """Install what each backend of ``families`` (default: the cached ones) needs to report
    changes to their tables, naming each family's ``key``; report what is watched now."""
    return _each(rt, families, "install")


def remove_change_feeds(rt: Realtime, families: Iterable[str] | None = None) -> list[FeedReport]:
    """Remove what :func:`install_change_feeds` installed for ``families``."""
    return _each(rt, families, "remove")


def feed_status(rt: Realtime, families: Iterable[str] | None = None) -> list[FeedReport]:
    """Whether each backend of ``families`` reports changes to their tables (installs nothing)."""
    return _each(rt, families, "check")
