"""Deadlines for blocking DB-API calls: a watchdog thread cuts a call that ran out of time.

Client libraries bound a *new* connection (``connect_timeout``), but a call on an open one
can block for as long as the server does not answer: libpq has no read timeout at all, and a
stopped server (or a proxy queueing the query) leaves the kernel acknowledging every packet,
so TCP-level timeouts never fire. The bound here works whatever the library does: each pooled
DB-API connection has a :class:`Watch`; a call *arms* it (a deadline, two attribute stores, no
lock, no allocation), runs, and *disarms* it. One daemon thread per process (the
:class:`Watchdog`) looks at the armed watches only when a deadline can have passed and shuts
down the socket of a call still running at its deadline. The blocked library then sees the
connection end (``recv`` returns 0) and raises its "connection lost" error; the caller asks
:meth:`Watch.disarm`/:meth:`Watch.late` whether that was the watchdog (or a library timeout)
and reports :class:`TimedOut` instead, never retrying the call and never reusing the
connection.

The socket is identified by descriptor *and* inode, checked on a duplicate of the descriptor
taken at the moment of the cut: if the library closed its socket and the number was reused by
another socket meanwhile, nothing is touched.

Nothing here imports a database library; a driver says how to find a connection's socket.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import stat
import struct
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Protocol

from ..errors import BackendError

__all__ = ["NO_WATCH", "Deadline", "NoWatch", "TimedOut", "Watch", "Watchdog", "watchdog"]

log = logging.getLogger(__name__)

_now = time.monotonic


class TimedOut(BackendError):
    """A call got no answer within its bound (a ``BackendError``: the core fails over)."""


class Deadline(Protocol):
    """What the hot path needs of a connection's watch (:class:`Watch` or :data:`NO_WATCH`)."""

    def arm(self, timeout: float | None = None) -> None: ...

    def disarm(self) -> bool: ...

    def late(self) -> bool: ...

    def error(self, label: str) -> TimedOut: ...


class NoWatch:
    """The watch of a connection whose calls cannot stall on a server (``sqlite3``: a local
    file, bounded by its own ``busy_timeout``): it never cuts anything."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<NoWatch>"

    def arm(self, timeout: float | None = None) -> None:
        pass

    def disarm(self) -> bool:
        return False

    def late(self) -> bool:
        return False

    def error(self, label: str) -> TimedOut:  # pragma: no cover - never late
        raise AssertionError("a NoWatch never times out")


NO_WATCH = NoWatch()


class Watch:
    """The deadline of the call running on one DB-API connection, and how to cut it short.

    ``timeout`` is the bound of one call and ``setting`` the configuration key that sets it
    (for messages). ``deadline`` is ``0.0`` while no call runs.
    """

    __slots__ = (
        "__weakref__",
        "_dev",
        "_fd",
        "_ino",
        "_lock",
        "deadline",
        "due",
        "fired",
        "setting",
        "shot",
        "timeout",
    )

    def __init__(self, fd: int | None, timeout: float, setting: str = "query_timeout") -> None:
        self.timeout = timeout
        self.setting = setting
        self.deadline = 0.0  # the watchdog reads this: 0.0 = idle
        self.due = 0.0  # the deadline of the last call, kept after disarm
        self.fired = False  # the watchdog found this watch past its deadline
        self.shot = False  # ... and cut the call (the connection is finished)
        self._lock = threading.Lock()
        self._fd = -1
        self._dev = self._ino = 0
        if fd is not None and fd >= 0:
            try:
                st = os.fstat(fd)
            except OSError:
                pass
            else:
                if stat.S_ISSOCK(st.st_mode):
                    self._fd, self._dev, self._ino = fd, st.st_dev, st.st_ino

    def __repr__(self) -> str:
        state = "shot" if self.shot else "armed" if self.deadline else "idle"
        return f"<Watch fd={self._fd} {self.setting}={self.timeout:g} {state}>"

    @property
    def can_cut(self) -> bool:
        """True if the watchdog can cut a call (the connection's socket is known)."""
        return self._fd >= 0

    # -- the hot path: a call arms, runs, disarms ----------------------------------------

    def arm(self, timeout: float | None = None) -> None:
        """A call starts: it must end within ``timeout`` (default: this watch's) seconds.

        A longer ``timeout`` than the watch's is fine; a shorter one may be cut late by up
        to the difference (the watchdog wakes for the shortest registered timeout).
        """
        self.deadline = self.due = _now() + (self.timeout if timeout is None else timeout)

    def disarm(self) -> bool:
        """The call ended. True if the watchdog cut it: the connection must be thrown away."""
        self.deadline = 0.0
        return self.fired and self._settle()

    def late(self) -> bool:
        """After :meth:`disarm` of a failed call: True if the call ran out of time.

        Either the watchdog cut it or it failed at or after its deadline (a library timeout
        such as MySQL's ``read_timeout``); either way the time is spent and a retry would
        wait again.
        """
        return self.shot or _now() >= self.due

    def error(self, label: str) -> TimedOut:
        """The error for a call of ``label`` that ran out of time."""
        return _timed_out(label, self.setting, self.timeout)

    @contextlib.contextmanager
    def bounded(self, label: str, timeout: float | None = None) -> Iterator[None]:
        """Run a block of calls (not the hot path) under one deadline.

        A block that fails after its deadline raises :class:`TimedOut`. Nested use (the watch
        is armed already) keeps the outer deadline.
        """
        if self.deadline:
            yield
            return
        self.arm(timeout)
        try:
            yield
        except Exception:
            self.disarm()
            if self.late():
                raise _timed_out(
                    label, self.setting, self.timeout if timeout is None else timeout
                ) from None
            raise
        self.disarm()

    # -- the watchdog's side ------------------------------------------------------------

    def _settle(self) -> bool:
        with self._lock:  # waits for a cut in progress to finish
            if self.shot:
                return True
            self.fired = False
            return False

    def _fire(self, deadline: float) -> None:
        """Cut the call that has ``deadline``, unless it ended meanwhile."""
        self.fired = True  # before the check: disarm() sets deadline, then reads fired
        with self._lock:
            if self.shot:
                return
            if self.deadline != deadline:  # that call ended; another may run now
                self.fired = False
                return
            self.shot = True
            if self._fd >= 0:
                _cut(self._fd, self._dev, self._ino)


def _timed_out(label: str, setting: str, timeout: float) -> TimedOut:
    return TimedOut(f"{label}: no answer within {setting} = {timeout:g} s (connection closed)")


#: SO_LINGER on, zero seconds: closing the socket aborts the connection (RST) and drops what
#: is still unsent, instead of delivering it whenever the path carries packets again.
_ABORT_ON_CLOSE = struct.pack("ii", 1, 0)


def _cut(fd: int, dev: int, ino: int) -> bool:
    """Shut down the socket ``fd`` if it is still the one with ``dev``/``ino``.

    Its closing (by the library, once the call returned) then aborts the connection: a
    request still waiting to be sent over a path that drops packets (or resent by TCP) never
    reaches the server after the caller was told it failed, where it could overwrite a later
    write that did succeed.
    """
    try:
        dup = os.dup(fd)
    except OSError:
        return False
    try:
        st = os.fstat(dup)
        if st.st_ino != ino or st.st_dev != dev:
            return False  # the library closed it and the number was reused
        with socket.socket(fileno=dup) as sock:  # owns (and closes) the duplicate only
            dup = -1
            with contextlib.suppress(OSError):  # (a socket type without lingering)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _ABORT_ON_CLOSE)
            sock.shutdown(socket.SHUT_RDWR)
        return True
    except OSError:
        return False
    finally:
        if dup >= 0:
            os.close(dup)


class Watchdog:
    """One thread for every watch of the process.

    It sleeps until the earliest deadline of the armed watches, or for the shortest timeout
    of any watch when none is armed (a call armed after a look cannot expire before the next
    one), so it costs nothing per call and wakes a few times per timeout period at most.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._watches: weakref.WeakSet[Watch] = weakref.WeakSet()
        self._period = math.inf
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<Watchdog {len(self._watches)} watches>"

    def watch(self, fd: int | None, timeout: float, setting: str = "query_timeout") -> Watch:
        """A new watch over socket ``fd`` (``None``: unknown, calls are timed but not cut)."""
        if not timeout > 0:
            raise ValueError(f"{setting} must be positive, got {timeout!r}")
        w = Watch(fd, timeout, setting)
        with self._lock:
            self._watches.add(w)
            if timeout < self._period:
                self._period = timeout
                self._wake.notify()
            if self._thread is None:
                self._start()
        return w

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ara-realtime-watchdog", daemon=True)
        self._thread.start()

    def _after_fork(self) -> None:
        """In a forked child: fresh locks and a new thread (the parent's did not come along)."""
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread = None
        if len(self._watches):
            self._start()

    def _run(self) -> None:
        due: list[tuple[Watch, float]] = []
        while True:
            with self._lock:
                now = _now()
                wake = now + self._period
                for w in list(self._watches):
                    d = w.deadline
                    if d:
                        if d <= now:
                            due.append((w, d))
                        elif d < wake:
                            wake = d
                if not due:
                    self._wake.wait(None if wake == math.inf else wake - now)
                    continue
            for w, d in due:  # outside the lock: registering never waits for a cut
                try:
                    w._fire(d)
                except Exception:  # never let the watchdog die
                    log.exception("watchdog: cutting a call failed")
            due.clear()


_watchdog = Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_watchdog._after_fork)


def watchdog() -> Watchdog:
    """The process's watchdog."""
    return _watchdog
