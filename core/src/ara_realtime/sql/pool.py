"""The pool every SQL driver's connection draws from, and a bounded one on the standard library.

:class:`ConnectionPool` is what :class:`~ara_realtime.sql.base.DBAPIConnection` needs from a pool.
Drivers on SQLAlchemy put its ``QueuePool`` behind it (:mod:`ara_realtime.sql.sqla.pool`);
:class:`BoundedPool` serves drivers the core ships without SQLAlchemy (``sqlite3``):

* at most ``size + overflow`` connections exist at once; a caller finding them all in use
  waits at most ``timeout`` seconds, then gets a :class:`~ara_realtime.errors.BackendError`;
* up to ``size`` idle connections are kept (the most recently used first); the rest are closed
  when released, so a burst of short-lived threads costs no more than the bound.

Taking and putting back an idle connection is a ``deque`` pop and append (atomic), so the
common path takes no lock.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..errors import BackendError
from ..status import PoolStatus
from .deadline import NO_WATCH, Deadline

__all__ = ["BoundedPool", "ConnectionPool", "PoolExhausted", "PoolStatus", "PooledConnection"]

_now = time.monotonic


class PoolExhausted(BackendError):
    """No pooled connection came free within ``pool_timeout``: every one is in use (the
    server itself may be fine, so a driver choosing between servers does not leave this one)."""


class PooledConnection(Protocol):
    """One checked-out DB-API connection, the cursor reused for its statements, and the
    deadline of its calls (:mod:`ara_realtime.sql.deadline`)."""

    dbapi: Any
    cursor: Any
    watch: Deadline


class ConnectionPool(Protocol):
    """Connections of one database, for one role (reading or writing)."""

    label: str
    timeout: float

    def acquire(self) -> PooledConnection:
        """A connection (waits at most ``timeout`` seconds; ``BackendError`` after that)."""

    def release(self, conn: Any) -> None:
        """Put a healthy connection back."""

    def discard(self, conn: Any) -> None:
        """Throw a broken connection away (its slot is freed)."""

    def invalidate_idle(self) -> None:
        """Throw away every idle connection (after the server went away)."""

    def close(self) -> None:
        """Close every connection."""

    def status(self) -> PoolStatus:
        """Connections in use, idle and the limit."""


class Conn:
    """A connection of a :class:`BoundedPool` with its reusable cursor and its watch."""

    __slots__ = ("cursor", "dbapi", "watch")

    def __init__(self, dbapi: Any, watch: Deadline = NO_WATCH) -> None:
        self.dbapi = dbapi
        self.cursor: Any = dbapi.cursor()
        self.watch = watch


class BoundedPool:
    """At most ``size + overflow`` DB-API connections made by ``connect``, ``size`` kept idle.

    :param connect: opens one DB-API connection (raising ``BackendError`` when it cannot).
    :param label: names the database in errors.
    :param setting: the name of the timeout setting, for the error a caller gets when it
        waited ``timeout`` seconds in vain.
    :param watch: the watch of a new DB-API connection, if its calls can stall on a server
        (default: none, as for ``sqlite3``).
    """

    def __init__(
        self,
        connect: Callable[[], Any],
        label: str,
        *,
        size: int,
        overflow: int,
        timeout: float,
        setting: str = "pool_timeout",
        watch: Callable[[Any], Deadline] | None = None,
    ) -> None:
        self._connect = connect
        self._watch = watch
        self.label = label
        self.size = size
        self.limit = size + overflow
        self.timeout = timeout
        self._setting = setting
        self._idle: collections.deque[Conn] = collections.deque()
        self._open = 0  # connections that exist (idle or in use), under _cond
        self._cond = threading.Condition(threading.Lock())
        self._closed = False

    def __repr__(self) -> str:
        return f"<BoundedPool {self.label} open={self._open}/{self.limit} idle={len(self._idle)}>"

    def acquire(self) -> Conn:
        try:
            return self._idle.pop()
        except IndexError:
            return self._acquire_slow()

    def _acquire_slow(self) -> Conn:
        deadline = _now() + self.timeout
        with self._cond:
            while True:
                if self._idle:
                    return self._idle.pop()
                if self._open < self.limit:
                    self._open += 1
                    break
                left = deadline - _now()
                if left <= 0:
                    raise PoolExhausted(
                        f"{self.label}: no connection free within {self._setting} = "
                        f"{self.timeout:g} s (all {self.limit} connections are in use)"
                    )
                # released connections go to the idle stack without the lock: look again soon
                self._cond.wait(min(left, 0.01))
        try:
            dbapi = self._connect()
            return Conn(dbapi, self._watch(dbapi) if self._watch is not None else NO_WATCH)
        except BaseException:
            self._forget()
            raise

    def release(self, conn: Conn) -> None:
        if not self._closed and len(self._idle) < self.size:
            self._idle.append(conn)
            return
        self.discard(conn)

    def discard(self, conn: Conn) -> None:
        with contextlib.suppress(Exception):  # a broken connection may fail to close
            conn.dbapi.close()
        self._forget()

    def _forget(self) -> None:
        with self._cond:
            self._open -= 1
            self._cond.notify()

    def invalidate_idle(self) -> None:
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                return
            self.discard(conn)

    def close(self) -> None:
        """Close the idle connections now and the busy ones when they are released."""
        self._closed = True
        self.invalidate_idle()

    def status(self) -> PoolStatus:
        idle = len(self._idle)
        return PoolStatus(in_use=max(0, self._open - idle), idle=idle, limit=self.limit)
