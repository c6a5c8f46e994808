"""The realtime switch: Asterisk's ``exists``/``canmatch``/``matchmore``/``exec`` over a family.

Each (family, context) is read whole into a :class:`ContextSnapshot` (kept fresh by
:class:`ContextStore`, see ``_refresh``); look-ups are answered from its indexes, and a hit
cache remembers answers for the snapshot they came from.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..errors import QueryError
from ..patterns import Mode
from ..realtime import Realtime
from ._context import HINT, ContextSnapshot, priority_arg
from ._explain import Explanation, explain
from ._index import EARLY, Entry
from ._refresh import ContextStore
from ._spec import SwitchSpec

__all__ = ["Application", "Hint", "Match", "RealtimeSwitch"]

log = logging.getLogger("ara_realtime.switch")
_now = time.monotonic
_MODES: tuple[Mode, ...] = ("match", "canmatch", "matchmore")


@dataclass(frozen=True)
class Match:
    """The row a look-up found, and how."""

    family: str
    context: str
    #: the row's ``exten`` as stored (``extension/callerid`` for a caller-ID row)
    exten: str
    #: the extension part (before ``/``) and the caller-ID pattern (None without one)
    extension: str
    callerid: str | None
    #: the row's priority (-1 for a hint)
    priority: int
    pattern: bool
    #: matched through ``!`` (an early match)
    early: bool
    #: the row, read-only (it is shared with the snapshot and the hit cache)
    row: Mapping[str, str] = field(repr=False)

    @property
    def app(self) -> str | None:
        return _column(self.row, "app")

    @property
    def appdata(self) -> str:
        return _column(self.row, "appdata") or ""


@dataclass(frozen=True)
class Application:
    """What ``exec`` runs: the application and its (unsubstituted) data."""

    app: str
    appdata: str
    match: Match = field(repr=False)


@dataclass(frozen=True)
class Hint:
    """A hint row: ``app`` is the device list, ``appdata`` the presence provider (if any)."""

    device: str
    presence: str
    match: Match = field(repr=False)

    @property
    def value(self) -> str:
        """As Asterisk writes a hint: ``device[,presence]``."""
        return f"{self.device},{self.presence}" if self.presence else self.device


def _column(row: Mapping[str, str], name: str) -> str | None:
    """A column looked up as Asterisk does (case-insensitive)."""
    value = row.get(name)
    if value is not None:
        return value
    for key, v in row.items():
        if key.lower() == name:
            return v
    return None


class RealtimeSwitch:
    """Asterisk's realtime switch over :class:`~ara_realtime.Realtime` (see docs/switch.md).

    ``refresh``: no look-up uses rows read more than this many seconds before it began (the
    staleness bound; 0 re-reads on every look-up); under steady traffic re-reads happen in
    the background and look-ups do not wait for them. ``cache_lifetime``: seconds a hit is
    remembered (0: no hit cache); ``cache_size``: at most this many hits are remembered.
    A hit is never served from a snapshot that has been replaced, so the cache does not add
    staleness. Safe to share between threads.
    """

    def __init__(
        self,
        rt: Realtime,
        *,
        refresh: float = 1.0,
        cache_lifetime: float = 1.0,
        cache_size: int = 10_000,
    ) -> None:
        for name, value in (("refresh", refresh), ("cache_lifetime", cache_lifetime)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise QueryError(f"{name} must be a number of seconds >= 0, not {value!r}")
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise QueryError(f"cache_size must be a whole number >= 0, not {cache_size!r}")
        self.rt = rt
        self.refresh = float(refresh)
        self.cache_lifetime = float(cache_lifetime)
        self.cache_size = cache_size
        self._store = ContextStore(rt, self.refresh)
        self._cache: OrderedDict[Hashable, tuple[float, int, Match]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<RealtimeSwitch {len(self._store)} contexts, refresh {self.refresh:g} s>"

    # -- Asterisk's switch operations ----------------------------------------------------------

    def exists(
        self,
        context: str,
        exten: str,
        priority: int | str = 1,
        *,
        callerid: str | None = None,
        data: str = "",
    ) -> bool:
        """Is there a row for ``exten`` at ``priority``?"""
        return self.lookup(context, exten, priority, callerid=callerid, data=data) is not None

    def canmatch(
        self,
        context: str,
        exten: str,
        priority: int | str = 1,
        *,
        callerid: str | None = None,
        data: str = "",
    ) -> bool:
        """Could ``exten`` match, now or after more digits?"""
        found = self.lookup(context, exten, priority, callerid=callerid, data=data, mode="canmatch")
        return found is not None

    def matchmore(
        self,
        context: str,
        exten: str,
        priority: int | str = 1,
        *,
        callerid: str | None = None,
        data: str = "",
    ) -> bool:
        """Could ``exten`` match only after more digits (wait for the digit timeout)?"""
        found = self.lookup(
            context, exten, priority, callerid=callerid, data=data, mode="matchmore"
        )
        return found is not None

    def exec(
        self,
        context: str,
        exten: str,
        priority: int | str = 1,
        *,
        callerid: str | None = None,
        data: str = "",
    ) -> Application | None:
        """The application ``exec`` would run, or None (no row; or a row without ``app``,
        logged as Asterisk does)."""
        found = self.lookup(context, exten, priority, callerid=callerid, data=data)
        if found is None:
            return None
        app = found.app
        if not app:
            log.warning(
                "no application specified for realtime extension %r in context %r",
                exten,
                found.context,
            )
            return None
        return Application(app, found.appdata, found)

    def hint(
        self, context: str, exten: str, *, callerid: str | None = None, data: str = ""
    ) -> Hint | None:
        """The hint row (``priority = hint`` or ``-1``) for ``exten``, matched like any
        extension (Asterisk's realtime switch serves no hints)."""
        found = self.lookup(context, exten, HINT, callerid=callerid, data=data)
        if found is None or not found.app:
            return None
        return Hint(found.app, found.appdata, found)

    def lookup(
        self,
        context: str,
        exten: str,
        priority: int | str = 1,
        *,
        callerid: str | None = None,
        data: str = "",
        mode: Mode = "match",
    ) -> Match | None:
        """The row the switch in ``context`` (with ``data``) finds for ``exten`` in ``mode``.

        ``context`` is the calling context (the one holding the ``switch =>`` line);
        ``data`` is what follows ``Realtime/`` there. ``callerid`` is the caller's number.
        """
        spec = SwitchSpec.parse(data)
        ctx = spec.context_for(_text("context", context))
        exten = _text("exten", exten)
        if callerid is not None:
            callerid = _text("callerid", callerid)
        if mode not in _MODES:
            raise QueryError(f"mode must be one of {', '.join(_MODES)}, not {mode!r}")
        prio = priority_arg(priority)
        snapshot = self._store.current(spec.family, ctx)
        key = None
        if self.cache_lifetime > 0 and self.cache_size > 0:
            key = (spec.family.lower(), ctx, exten, prio, callerid or "", mode, spec.patterns)
            with self._cache_lock:
                cached = self._cache.get(key)
            if cached is not None:
                expires, generation, hit = cached
                if generation == snapshot.generation and expires > _now():
                    return hit
        found = snapshot.index(prio).find(exten, mode, callerid, use_patterns=spec.patterns)
        if found is None:
            return None
        result = _match(snapshot, prio, *found)
        if key is not None:
            with self._cache_lock:
                self._cache[key] = (_now() + self.cache_lifetime, snapshot.generation, result)
                self._cache.move_to_end(key)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return result

    def explain(
        self,
        context: str,
        exten: str,
        priority: int | str = 1,
        *,
        callerid: str | None = None,
        data: str = "",
    ) -> Explanation:
        """What a look-up finds in each mode and why (``realtime switch``)."""
        return explain(self, context, exten, priority_arg(priority), callerid=callerid, data=data)

    # -- snapshots ------------------------------------------------------------------------------

    def snapshot(self, family: str, context: str) -> ContextSnapshot:
        """The rows of ``context`` in ``family`` as look-ups see them, re-read first if older
        than ``refresh`` seconds (see docs/switch.md, "Staleness")."""
        return self._store.fresh(family, context)

    def invalidate(self, family: str | None = None, context: str | None = None) -> None:
        """Re-read the contexts (all, or those of ``family`` and/or ``context``) at their
        next look-up; hits remembered from the old rows are not served after that."""
        self._store.invalidate(family, context)

    def clear(self) -> None:
        """Forget every snapshot and remembered hit."""
        self._store.clear()
        with self._cache_lock:
            self._cache.clear()


def _match(snapshot: ContextSnapshot, priority: int, entry: Entry, kind: int) -> Match:
    result = entry.result
    if result is None:
        result = entry.result = Match(
            family=snapshot.family,
            context=snapshot.context,
            exten=entry.exten,
            extension=entry.extension,
            callerid=entry.callerid,
            priority=priority,
            pattern=entry.is_pattern,
            early=kind == EARLY,
            row=MappingProxyType(entry.row),
        )
    assert isinstance(result, Match)
    if result.early != (kind == EARLY):  # the same entry can match either way
        result = Match(**{**result.__dict__, "early": kind == EARLY})
    return result


def _text(name: str, value: object) -> str:
    if type(value) is not str:
        raise QueryError(f"{name} must be str, not {type(value).__name__}")
    return value
