"""Pooled DB-API connections: SQLAlchemy's pool for limits, a lock-free stack for the hot path.

SQLAlchemy's ``QueuePool`` owns the connections (size, overflow, acquire timeout, creation
through the dialect, invalidation). Checking a connection in and out of it costs more than a
prepared point query, so connections taken from it are kept on a stack of idle ones
(``collections.deque``: ``pop``/``append`` are atomic) and handed out again from there. Only
when the stack is empty does ``acquire`` go to SQLAlchemy's pool, which then enforces the size
and the timeout. Idle connections beyond ``pool_size`` are given back to it (overflow ones are
closed there). A connection idle for longer than ``ping_after`` seconds is pinged first; one
older than ``recycle`` seconds goes back to SQLAlchemy, which replaces it.
"""

from __future__ import annotations

import collections
import contextlib
import time
from typing import Any

import sqlalchemy
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from ...errors import BackendError
from ..deadline import Deadline, TimedOut
from ..pool import PoolExhausted, PoolStatus
from .timeouts import Watches

__all__ = ["Conn", "Pool"]

_now = time.monotonic


class Conn:
    """One checked-out connection: the pool's proxy, the DB-API connection and its cursor."""

    __slots__ = ("born", "cursor", "dbapi", "fairy", "used", "watch")

    def __init__(self, fairy: Any, watches: Watches) -> None:
        self.fairy = fairy
        self.dbapi: Any = fairy.dbapi_connection
        self.cursor: Any = self.dbapi.cursor()
        self.used = self.born = _now()
        self.watch: Deadline = watches.of(self.dbapi)


class Pool:
    """Connections of one database, for one role (read or write)."""

    def __init__(
        self,
        engine: Engine,
        label: str,
        *,
        size: int,
        timeout: float,
        ping_after: float | None,
        recycle: float = -1,
        watches: Watches,
    ) -> None:
        self.engine = engine
        self.watches = watches
        self.label = label
        self.size = size
        self.timeout = timeout
        self.ping_after = ping_after
        self.recycle = recycle
        self._idle: collections.deque[Conn] = collections.deque()

    def __repr__(self) -> str:
        return f"<Pool {self.label} idle={len(self._idle)}>"

    def acquire(self) -> Conn:
        """An idle connection, else a new checkout (waits at most ``timeout`` seconds)."""
        try:
            conn = self._idle.pop()
        except IndexError:
            return self._checkout()
        if self.recycle > 0 and _now() - conn.born > self.recycle:
            self._give_back(conn)  # SQLAlchemy replaces it on the next checkout
            return self._checkout()
        if self.ping_after is not None and _now() - conn.used >= self.ping_after:
            try:
                self.engine.dialect.do_ping(conn.dbapi)
            except TimedOut:  # the server is stalled, not gone: no new connection
                self.discard(conn)
                raise
            except Exception:
                self.discard(conn)
                self.invalidate_idle()
                return self._checkout()
        return conn

    def release(self, conn: Conn) -> None:
        """Put a healthy connection back."""
        if len(self._idle) < self.size:
            conn.used = _now()
            self._idle.append(conn)
        else:
            self._give_back(conn)

    def _checkout(self) -> Conn:
        try:
            fairy = self.engine.raw_connection()
        except sa_exc.TimeoutError:
            raise self.timeout_error() from None
        except sa_exc.DBAPIError as exc:
            raise BackendError(f"{self.label}: cannot connect: {_reason(exc.orig)}") from None
        except self.engine.dialect.loaded_dbapi.Error as exc:  # the pool does not wrap them
            raise BackendError(f"{self.label}: cannot connect: {_reason(exc)}") from None
        try:
            return Conn(fairy, self.watches)
        except Exception as exc:
            fairy.invalidate()
            raise BackendError(f"{self.label}: cannot open a cursor: {_reason(exc)}") from None

    def connect(self) -> sqlalchemy.Connection:
        """A SQLAlchemy connection (reflection, DDL); idle connections are given back first."""
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                break
            self._give_back(conn)
        return self.engine.connect()

    def timeout_error(self) -> PoolExhausted:
        """The error for a pool that stayed exhausted for ``timeout`` seconds."""
        return PoolExhausted(
            f"{self.label}: no connection free within pool_timeout = {self.timeout:g} s "
            f"(all pool_size + pool_overflow connections are in use)"
        )

    @staticmethod
    def _give_back(conn: Conn) -> None:
        with contextlib.suppress(Exception):  # a broken cursor changes nothing here
            conn.cursor.close()
        conn.fairy.close()

    def discard(self, conn: Conn) -> None:
        """Throw away a broken connection (its pool slot is freed)."""
        with contextlib.suppress(Exception):
            conn.fairy.invalidate()

    def invalidate_idle(self) -> None:
        """Throw away every idle connection (after the server went away).

        Connections resting in SQLAlchemy's own queue are pinged there on checkout.
        """
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                break
            self.discard(conn)

    def status(self) -> PoolStatus:
        """Connections in use, idle and the limit (SQLAlchemy's pool counts its own)."""
        pool: Any = self.engine.pool
        try:
            out = int(pool.checkedout())
            limit = int(pool.size()) + max(0, int(getattr(pool, "_max_overflow", 0)))
        except Exception:
            out, limit = 0, self.size
        idle = len(self._idle)
        return PoolStatus(in_use=max(0, out - idle), idle=idle, limit=limit)

    def close(self) -> None:
        """Close every connection."""
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                break
            self._give_back(conn)
        self.engine.dispose()


def _reason(exc: BaseException | None) -> str:
    """A DB-API error as one line, without statement or parameters."""
    if exc is None:
        return "unknown error"
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
