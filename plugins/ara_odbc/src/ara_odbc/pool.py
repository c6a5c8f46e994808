"""The pool of one ``res_odbc.conf`` class: SQLAlchemy's ``QueuePool`` with a pyodbc creator.

Asterisk's meaning of the settings is kept, with every wait bounded:

* ``max_connections``: at most this many connections exist at once (``QueuePool`` with
  ``pool_size = max_connections`` and no overflow). A caller finding them all in use waits at
  most ``pool_timeout`` seconds, then gets a :class:`~ara_realtime.errors.BackendError` (Asterisk
  waits for ever).
* ``cache_size``: idle connections kept open (``-1``: all of them, ``0``: none); when one more
  would be kept, the longest idle is closed. ``cache_type``: which idle connection is reused,
  the most recently released (``stack``) or the longest idle (``queue``).
* ``sanitysql``: run on a reused connection idle for ``pool_pre_ping`` seconds or more (0:
  every reuse, as Asterisk does); one that fails is thrown away with every other idle
  connection, and a fresh one is opened.
* ``connect_timeout``: each connection attempt gets it as the ODBC login timeout and is also
  abandoned by the caller when it has not returned by then (drivers differ in which phases
  their login timeout covers). While ``max_connections`` abandoned attempts are still blocked
  in the driver, new attempts fail at once rather than pile up threads; a late connection is
  closed when it comes.
* ``negative_connection_cache``: for this many seconds after a failed attempt, further
  attempts fail at once.
* several DSNs (``dsn => a, b``): a new connection tries the DSN that last worked, then the
  others in the listed order, each within ``connect_timeout``. A server found refusing writes
  (:meth:`OdbcPool.avoid`) is tried last from then on.

Idle connections live on a ``deque`` (``pop``/``append`` are atomic), so the common path takes
no lock; only when it is empty does :meth:`OdbcPool.acquire` go to ``QueuePool``, which counts
and bounds the connections.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from ara_realtime.errors import BackendError
from ara_realtime.sql.deadline import NO_WATCH, Deadline
from ara_realtime.sql.messages import one_line
from ara_realtime.sql.pool import PoolStatus

__all__ = ["Conn", "OdbcPool"]

log = logging.getLogger(__name__)

_now = time.monotonic
_SLICE = 0.05


class Conn:
    """One checked-out connection: the pool's proxy, the pyodbc connection and its cursor."""

    __slots__ = ("checked", "cursor", "dbapi", "fairy", "target", "used", "watch")

    def __init__(self, fairy: Any, watch: Deadline = NO_WATCH) -> None:
        self.fairy = fairy
        self.dbapi: Any = fairy.dbapi_connection
        self.cursor: Any = self.dbapi.cursor()
        self.used = _now()
        #: The deadline of the call running on it (``query_timeout``; the base arms it).
        self.watch = watch
        #: A wrapper a driver keeps with the connection (ara_odbc.driver.CheckedWrites).
        self.checked: Any = None
        #: Which of the pool's targets (DSNs) it reached.
        self.target: int = fairy.info.get("ara_target", 0)


class OdbcPool:
    """Connections of one class, made by ``connect`` (a pyodbc connection, blocking).

    :param connect: opens one connection to target ``i`` of ``targets`` (a DSN) as
        ``connect(i, login_timeout)``; it is called in a worker thread and may take as long as
        the driver lets it.
    :param label: names the class in errors (never a password).
    :param targets: what each target is called in errors (one DSN: no name needed).
    :param error: turns an exception ``connect`` raised into the text of a ``BackendError``.
    """

    def __init__(
        self,
        connect: Callable[[int, int], Any],
        label: str,
        *,
        targets: Sequence[str] = ("",),
        max_connections: int,
        cache_size: int = -1,
        lifo: bool = True,
        timeout: float = 5.0,
        connect_timeout: float = 10.0,
        negative_cache: float = 0.0,
        sanitysql: str = "select 1",
        ping_after: float | None = 1.0,
        error: Callable[[BaseException], str] = lambda exc: one_line(str(exc)),
        watch_of: Callable[[Any], Deadline] | None = None,
    ) -> None:
        self._connect = connect
        self.label = label
        self.targets = list(targets)
        #: the target that last gave a connection: new ones try it first
        self.current = 0
        self.limit = max_connections
        self.cache_size = max_connections if cache_size < 0 else min(cache_size, max_connections)
        self.lifo = lifo
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.negative_cache = negative_cache
        self.sanitysql = sanitysql
        self.ping_after = ping_after
        self._error = error
        self._watch_of = watch_of
        self._idle: collections.deque[Conn] = collections.deque()
        self._take = self._idle.pop if lifo else self._idle.popleft
        self._lock = threading.Lock()
        self._failed_at: float | None = None
        self._failure = ""
        #: per target, abandoned connection attempts still blocked in the driver
        self._stuck = [0] * len(self.targets)
        self._waiting = 0  # callers waiting for QueuePool: released connections go to them
        self._closed = False
        self.queue = QueuePool(
            self._create,
            pool_size=max_connections,
            max_overflow=0,
            # waiters look at the idle deque between slices (a connection released there
            # while they started waiting would otherwise reach them only at the timeout)
            timeout=min(timeout, _SLICE),
            use_lifo=lifo,
            reset_on_return=None,  # autocommit: nothing to roll back
        )

    def __repr__(self) -> str:
        return f"<OdbcPool {self.label} idle={len(self._idle)}>"

    # -- connecting ----------------------------------------------------------------------------

    def _create(self, rec: ConnectionPoolEntry) -> Any:
        """``QueuePool``'s creator: one connection, within ``connect_timeout`` per target, or
        BackendError. The target it reached is kept in the pool entry's ``info``."""
        now = _now()
        failed = self._failed_at
        if failed is not None and now - failed < self.negative_cache:
            raise BackendError(
                f"{self.label}: not connecting for {self.negative_cache - (now - failed):.0f} s "
                f"more (negative_connection_cache = {self.negative_cache:g} s); the last attempt "
                f"failed: {self._failure}"
            )
        first = self.current
        order = [first] + [i for i in range(len(self.targets)) if i != first]
        failures: list[str] = []
        for i in order:
            try:
                if self._stuck[i] >= self.limit:
                    raise BackendError(
                        f"{self.label}: cannot connect within connect_timeout = "
                        f"{self.connect_timeout:g} s ({self._stuck[i]} attempt(s) still waiting "
                        "for the server; no new one until they return)"
                    )
                conn = self._bounded_connect(i)
            except BackendError as exc:
                reason = str(exc).removeprefix(f"{self.label}: ")
                failures.append(f"{self.targets[i]}: {reason}" if len(order) > 1 else reason)
                continue
            self._failed_at = None
            if i != self.current:
                if len(order) > 1:
                    log.warning("%s: connected to %s (%s)", self.label, self.targets[i], failures)
                self.current = i
            rec.info["ara_target"] = i
            return conn
        self._failed_at = _now()
        self._failure = "; ".join(failures)
        if len(order) == 1:
            raise BackendError(f"{self.label}: {self._failure}")
        raise BackendError(f"{self.label}: no DSN answered: {self._failure}")

    def avoid(self, conn: Conn) -> None:
        """``conn``'s target refuses writes (a standby, a server set read-only): new
        connections try the other targets first."""
        target = conn.target
        if len(self.targets) > 1 and target == self.current:
            self.current = (target + 1) % len(self.targets)
            log.warning(
                "%s: %s refuses writes; connecting to %s first from now on",
                self.label,
                self.targets[target],
                self.targets[self.current],
            )

    def _bounded_connect(self, target: int) -> Any:
        result: list[Any] = []
        done = threading.Event()
        abandoned = False

        def attempt() -> None:
            try:
                conn: Any = self._connect(target, max(1, math.ceil(self.connect_timeout)))
            except BaseException as exc:
                conn = exc
            with self._lock:
                if abandoned:  # the caller gave up: nobody takes this connection
                    self._stuck[target] -= 1
                    if not isinstance(conn, BaseException):
                        with contextlib.suppress(Exception):
                            conn.close()
                    return
                result.append(conn)
                done.set()

        worker = threading.Thread(target=attempt, name=f"ara-odbc connect {self.label}")
        worker.daemon = True
        worker.start()
        if not done.wait(self.connect_timeout):
            with self._lock:
                if not result:
                    abandoned = True
                    self._stuck[target] += 1
        if abandoned:
            raise BackendError(
                f"{self.label}: cannot connect within connect_timeout = {self.connect_timeout:g} s"
            )
        got = result[0]
        if isinstance(got, BackendError):
            raise got
        if isinstance(got, Exception):
            raise BackendError(f"{self.label}: cannot connect: {self._error(got)}") from None
        if isinstance(got, BaseException):
            raise got
        return got

    # -- the ConnectionPool protocol -------------------------------------------------------------

    def acquire(self) -> Conn:
        """An idle connection (checked if idle long enough), else a new checkout."""
        try:
            conn = self._take()
        except IndexError:
            return self._checkout()
        ping_after = self.ping_after
        if ping_after is not None and _now() - conn.used >= ping_after:
            watch = conn.watch
            watch.arm()
            try:
                conn.cursor.execute(self.sanitysql)
                conn.cursor.fetchall()
                if watch.disarm():
                    raise watch.error(self.label)
            except Exception as exc:
                watch.disarm()
                log.info("%s: idle connection failed %r (%s)", self.label, self.sanitysql, exc)
                self.discard(conn)
                self.invalidate_idle()
                return self._checkout()
        return conn

    def release(self, conn: Conn) -> None:
        """Keep a healthy connection idle (closing the longest idle beyond ``cache_size``)."""
        conn.used = _now()
        if self._waiting or self._closed or not self.cache_size:
            self._hand_over(conn)
            return
        idle = self._idle
        idle.append(conn)
        while len(idle) > self.cache_size:
            try:
                oldest = self._idle.popleft()
            except IndexError:
                break
            self.discard(oldest)

    def _hand_over(self, conn: Conn) -> None:
        if self._closed or not self.cache_size:
            self.discard(conn)
            return
        # a caller waits in QueuePool: the connection goes back there, still open
        with contextlib.suppress(Exception):
            conn.cursor.close()
        conn.fairy.close()

    def _checkout(self) -> Conn:
        deadline = _now() + self.timeout
        with self._lock:
            self._waiting += 1
        try:
            while True:
                try:
                    fairy = self.queue.connect()
                    break
                except sa_exc.TimeoutError:
                    try:
                        return self._idle.pop()
                    except IndexError:
                        pass
                    if _now() >= deadline:
                        raise self.timeout_error() from None
        finally:
            with self._lock:
                self._waiting -= 1
        try:
            return Conn(fairy, self._watch_of(fairy) if self._watch_of else NO_WATCH)
        except Exception as exc:
            fairy.invalidate()
            raise BackendError(f"{self.label}: cannot open a cursor: {self._error(exc)}") from None

    def timeout_error(self) -> BackendError:
        """The error for a pool that stayed exhausted for ``pool_timeout`` seconds."""
        return BackendError(
            f"{self.label}: no connection free within pool_timeout = {self.timeout:g} s "
            f"(all max_connections = {self.limit} are in use)"
        )

    def discard(self, conn: Conn) -> None:
        """Close a connection; its slot goes back to ``QueuePool`` (which reconnects later)."""
        with contextlib.suppress(Exception):  # a broken cursor changes nothing here
            conn.cursor.close()
        with contextlib.suppress(Exception):
            conn.fairy.invalidate()

    def invalidate_idle(self) -> None:
        """Throw away every idle connection (after the server went away)."""
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                return
            self.discard(conn)

    def status(self) -> PoolStatus:
        out = self.queue.checkedout()
        idle = len(self._idle)
        return PoolStatus(in_use=max(0, out - idle), idle=idle, limit=self.limit)

    def close(self) -> None:
        """Close the idle connections now, the busy ones when they are released."""
        self._closed = True
        self.invalidate_idle()
        self.queue.dispose()
