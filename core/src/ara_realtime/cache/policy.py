"""What the cache keeps and for how long: per-family policies and cache-wide limits.

Given in code (:class:`CachePolicy`, :class:`CacheLimits`) or read from ``realtime_cache.conf``
in the configuration directory (:func:`read_cache_config`)::

    [general]
    max_entries = 100000      ; rows and "no row" answers kept, all families together
    max_memory = 64M          ; their estimated size (K, M, G suffixes)
    poll_interval = 1         ; seconds between two checks of a polled change feed
    ttl = 60                  ; defaults for the family sections below

    [sippeers]                ; a section per family switches caching on for it
    ttl = 120                 ; chan_sip's rtautoclear = 120
    negative_ttl = 10
    key = name

A family without a section is not cached; ``enabled = no`` in its section switches it off
again. Durations are seconds (fractions allowed) or ``forever``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from ..conditions import check_identifier
from ..conf import Config
from ..errors import ConfigError, QueryError

__all__ = [
    "CACHE_FILE",
    "CacheConfig",
    "CacheLimits",
    "CachePolicy",
    "Coherence",
    "read_cache_config",
]

#: The file ``Realtime.from_config_dir`` reads the cache's settings from, when it exists.
CACHE_FILE = "realtime_cache.conf"

#: How a family's rows are kept coherent with what other processes write:
#: ``auto``: through the driver's change feed where the table is covered, else by ``ttl``;
#: ``feed``: only through the feed (rows of a table it does not cover are not cached);
#: ``ttl``: by ``ttl`` alone (the feed is not used).
Coherence = Literal["auto", "feed", "ttl"]
_COHERENCE: tuple[str, ...] = get_args(Coherence)


def _check_duration(name: str, value: float, *, positive: bool = False) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'}, got {value!r}")


@dataclass(frozen=True)
class CachePolicy:
    """How one family is cached.

    :param ttl: seconds a row (and a ``load_multi`` result) is served from the cache after it
        was read; ``math.inf`` keeps it until a change, ``unload``, ``reload`` or eviction
        drops it (chan_sip's ``rtcachefriends`` without ``rtautoclear``).
    :param negative_ttl: seconds "no such row" (``None``, ``[]``) is remembered; 0: never.
    :param stale_while_revalidate: seconds past ``ttl`` during which the expired row is still
        answered at once while a background thread reads it again.
    :param stale_if_error: seconds past ``ttl``, counted from the read, during which a row
        that is no longer fresh (expired, or its change feed not listening) is answered when
        the backend fails (a ``BackendError`` never drops a cached row).
    :param key: the column identifying a row (a text column compared exactly). Entries whose
        conditions include ``key = value`` are dropped only by changes to rows with that key;
        others by any change to the table. ``None``: every change drops the whole table.
    :param coherence: how changes made elsewhere reach the cache (see :data:`Coherence`).
    :param multi: cache ``load_multi`` results too.
    """

    ttl: float = 60.0
    negative_ttl: float = 10.0
    stale_while_revalidate: float = 0.0
    stale_if_error: float = 300.0
    key: str | None = "name"
    coherence: Coherence = "auto"
    multi: bool = True

    def __post_init__(self) -> None:
        _check_duration("ttl", self.ttl, positive=True)
        for name in ("negative_ttl", "stale_while_revalidate", "stale_if_error"):
            _check_duration(name, getattr(self, name))
        if self.key is not None:
            try:
                check_identifier(self.key)
            except QueryError as exc:
                raise ValueError(f"key: {exc}") from None
        if self.coherence not in _COHERENCE:
            raise ValueError(
                f"coherence must be one of {', '.join(_COHERENCE)}, got {self.coherence!r}"
            )
        if not isinstance(self.multi, bool):
            raise ValueError(f"multi must be True or False, got {self.multi!r}")

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _shown(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class CacheLimits:
    """Limits and timings shared by every family of one cache.

    :param max_entries: cached answers kept at most (rows, "no row", ``load_multi`` lists).
    :param max_memory: their estimated size in bytes at most.
    :param poll_interval: seconds between two checks of a ``poll`` change feed: the longest
        a change made elsewhere stays unseen on such a backend.
    :param error_retry: after a backend error, seconds during which expired rows (within
        ``stale_if_error``) are answered without asking the backend again.
    :param stats_dir: a directory where each process using this cache writes its counters
        (``realtime cache stats`` reads them), or ``None``.
    :param stats_interval: seconds between two writes of the counters to ``stats_dir``.
    """

    max_entries: int = 100_000
    max_memory: int = 64 * 2**20
    poll_interval: float = 1.0
    error_retry: float = 1.0
    stats_dir: Path | None = None
    stats_interval: float = 5.0

    def __post_init__(self) -> None:
        for name in ("max_entries", "max_memory"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        for name in ("poll_interval", "error_retry", "stats_interval"):
            _check_duration(name, getattr(self, name), positive=True)
            if math.isinf(getattr(self, name)):
                raise ValueError(f"{name} must be finite")

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _shown(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class CacheConfig:
    """Policies by family (lower case) and the cache-wide limits; ``source`` names the file."""

    families: Mapping[str, CachePolicy] = field(default_factory=dict)
    limits: CacheLimits = field(default_factory=CacheLimits)
    source: str | None = None


def _shown(value: object) -> object:
    if isinstance(value, float) and math.isinf(value):
        return "forever"
    if isinstance(value, Path):
        return str(value)
    return value


# -- realtime_cache.conf -------------------------------------------------------------------

_POLICY_KEYS = {f.name for f in fields(CachePolicy)}
_LIMIT_KEYS = {f.name for f in fields(CacheLimits)}
_DURATIONS = {"ttl", "negative_ttl", "stale_while_revalidate", "stale_if_error"}
_SIZE_RE = re.compile(r"(\d+)\s*([kmg]?)i?b?", re.IGNORECASE)
_TRUE = {"yes", "true", "y", "t", "1", "on"}
_FALSE = {"no", "false", "n", "f", "0", "off"}


def _boolean(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"expected yes or no, got {text!r}")


def _seconds(text: str, *, forever: bool) -> float:
    word = text.strip().lower()
    if forever and word in ("forever", "inf", "infinite", "never"):
        return math.inf
    try:
        value = float(word)
    except ValueError:
        hint = " or forever" if forever else ""
        raise ValueError(f"expected seconds{hint}, got {text!r}") from None
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"expected seconds, got {text!r}")
    return value


def _size(text: str) -> int:
    m = _SIZE_RE.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"expected a size in bytes (suffix K, M or G allowed), got {text!r}")
    return int(m.group(1)) * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[m.group(2).lower()]


def _convert(key: str, text: str, base: Path) -> Any:
    if key in _DURATIONS:
        return _seconds(text, forever=True)
    if key in ("poll_interval", "error_retry", "stats_interval"):
        return _seconds(text, forever=False)
    if key == "max_entries":
        if not text.strip().isdigit():
            raise ValueError(f"expected a whole number, got {text!r}")
        return int(text)
    if key == "max_memory":
        return _size(text)
    if key == "multi":
        return _boolean(text)
    if key == "key":
        word = text.strip()
        return None if word.lower() in ("", "none") else word
    if key == "coherence":
        return text.strip().lower()
    if key == "stats_dir":
        path = Path(text.strip())
        return path if path.is_absolute() else base / path
    raise AssertionError(key)


def read_cache_config(path: str | os.PathLike[str]) -> CacheConfig:
    """Read ``realtime_cache.conf`` (see the module docstring); ``ConfigError`` names file and
    line of a bad or unknown setting."""
    file = Path(path)
    cfg = Config.from_file(file)
    base = file.parent
    limits = CacheLimits()
    defaults = CachePolicy()
    if "general" in cfg:
        for var in cfg["general"]:
            if var.name not in _POLICY_KEYS | _LIMIT_KEYS:
                raise ConfigError(
                    f"[general]: unknown setting {var.name!r}; known: "
                    f"{', '.join(sorted(_POLICY_KEYS | _LIMIT_KEYS))}",
                    var.file,
                    var.lineno,
                )
            change = {var.name: _value(var.name, var.value, base, var.file, var.lineno)}
            try:
                if var.name in _LIMIT_KEYS:
                    limits = replace(limits, **change)
                else:
                    defaults = replace(defaults, **change)
            except ValueError as exc:
                raise ConfigError(f"[general] {exc}", var.file, var.lineno) from None
    families: dict[str, CachePolicy] = {}
    seen: set[str] = set()
    for cat in cfg.categories():
        family = cat.name.lower()
        if family == "general":
            continue
        if family in seen:
            raise ConfigError(
                f"[{cat.name}]: a second section for this family", cat.file, cat.lineno
            )
        seen.add(family)
        policy = defaults
        enabled = True
        for var in cat:
            if var.name == "enabled":
                try:
                    enabled = _boolean(var.value)
                except ValueError as exc:
                    raise ConfigError(
                        f"[{cat.name}] enabled: {exc}", var.file, var.lineno
                    ) from None
                continue
            if var.name not in _POLICY_KEYS:
                raise ConfigError(
                    f"[{cat.name}]: unknown setting {var.name!r}; known: enabled, "
                    f"{', '.join(sorted(_POLICY_KEYS))} (cache-wide ones go in [general])",
                    var.file,
                    var.lineno,
                )
            change = {var.name: _value(var.name, var.value, base, var.file, var.lineno)}
            try:
                policy = replace(policy, **change)
            except ValueError as exc:
                raise ConfigError(f"[{cat.name}] {exc}", var.file, var.lineno) from None
        if enabled:
            families[family] = policy
    return CacheConfig(families, limits, str(file))


def _value(key: str, text: str, base: Path, file: str | None, line: int | None) -> Any:
    try:
        return _convert(key, text, base)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}", file, line) from None
