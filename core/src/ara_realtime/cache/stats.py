"""The cache's counters as data: per family, per backend, in all; and their files for the CLI.

:meth:`RealtimeCache.stats() <ara_realtime.cache.RealtimeCache.stats>` returns a
:class:`CacheStats`. With ``stats_dir`` set, each process writes its own to
``<stats_dir>/<pid>-<cache id>.json`` every ``stats_interval`` seconds (replaced atomically,
removed when the cache closes); ``realtime cache stats`` reads them (:func:`read_stats_dir`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["BackendStats", "CacheStats", "FamilyStats", "read_stats_dir", "write_stats_file"]


@dataclass(frozen=True)
class FamilyStats:
    """One family's counters since the cache was made (entries and bytes: now)."""

    family: str
    hits: int = 0
    negative_hits: int = 0
    misses: int = 0
    stale_hits: int = 0
    error_hits: int = 0
    refreshes: int = 0
    invalidations: int = 0
    evictions: int = 0
    entries: int = 0
    bytes: int = 0

    @property
    def hit_ratio(self) -> float | None:
        """Answers from the cache (fresh, stale or despite an error) per call; ``None``: none."""
        served = self.hits + self.stale_hits + self.error_hits
        total = served + self.misses
        return served / total if total else None


@dataclass(frozen=True)
class BackendStats:
    """One backend's cached answers and how they are kept coherent.

    ``feed`` is the driver's change feed (``notify``, ``poll`` or ``none``); ``tables`` gives
    each table's state: ``live`` (changes are reported), ``pending`` or ``down`` (a feed
    exists but does not listen yet or any more), ``none`` (kept by ``ttl`` only).
    """

    backend: str
    feed: str = "none"
    bound: float | None = None
    tables: dict[str, str] = field(default_factory=dict)
    changes: int = 0
    lost_track: int = 0
    feed_errors: int = 0
    last_error: str | None = None
    entries: int = 0
    bytes: int = 0


@dataclass(frozen=True)
class CacheStats:
    """Everything :meth:`RealtimeCache.stats` reports."""

    families: tuple[FamilyStats, ...] = ()
    backends: tuple[BackendStats, ...] = ()
    entries: int = 0
    bytes: int = 0
    max_entries: int = 0
    max_memory: int = 0
    #: The process and file the counters came from (set when read back from ``stats_dir``).
    pid: int | None = None
    source: str | None = None

    def family(self, name: str) -> FamilyStats:
        """The counters of ``name`` (zeros if the family has none)."""
        for f in self.families:
            if f.family == name.lower():
                return f
        return FamilyStats(name.lower())

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for f, data in zip(self.families, out["families"]):
            ratio = f.hit_ratio
            data["hit_ratio"] = None if ratio is None else round(ratio, 4)
        for data in out["backends"]:
            bound = data["bound"]
            data["bound"] = None if bound is None or math.isinf(bound) else bound
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CacheStats:
        fam_fields = {f.name for f in fields(FamilyStats)}
        back_fields = {f.name for f in fields(BackendStats)}
        return cls(
            families=tuple(
                FamilyStats(**{k: v for k, v in f.items() if k in fam_fields})
                for f in data.get("families", ())
            ),
            backends=tuple(
                BackendStats(**{k: v for k, v in b.items() if k in back_fields})
                for b in data.get("backends", ())
            ),
            entries=int(data.get("entries", 0)),
            bytes=int(data.get("bytes", 0)),
            max_entries=int(data.get("max_entries", 0)),
            max_memory=int(data.get("max_memory", 0)),
            pid=data.get("pid"),
            source=data.get("source"),
        )


def write_stats_file(path: Path, stats: CacheStats) -> None:
    """Replace ``path`` with ``stats`` atomically (readers never see half a file)."""
    data = {**stats.to_dict(), "pid": os.getpid()}
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def read_stats_dir(directory: Path) -> tuple[list[CacheStats], list[Path]]:
    """The counters of every process still running that wrote to ``directory``, and the files
    of processes that are gone (left behind by a crash)."""
    found: list[CacheStats] = []
    gone: list[Path] = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # being replaced, or not ours
        if not isinstance(data, dict):
            continue
        pid = data.get("pid")
        if not isinstance(pid, int) or not _alive(pid):
            gone.append(path)
            continue
        found.append(CacheStats.from_dict({**data, "source": str(path)}))
    return found, gone
