"""Every round trip of a SQLAlchemy engine under a deadline (see :mod:`ara_realtime.sql.deadline`).

:class:`Watches` keeps one :class:`~ara_realtime.sql.deadline.Watch` per DB-API connection of
an engine (the hot path reads it from :class:`~ara_realtime.sql.sqla.pool.Conn`) and puts the
round trips SQLAlchemy makes on its own under it as well: the pre-ping of a pooled connection
(``dialect.do_ping``, also used by our pool) and the first connection's server queries
(``dialect.initialize``). Both are wrapped on the engine's own dialect instance, which no other
engine shares. :meth:`Watches.connect` times the DB-API connect (the engine's ``do_connect``
listener calls it), so a connect that ran out of ``connect_timeout`` says so.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy
from sqlalchemy.engine import Engine

from ..deadline import TimedOut, Watch, watchdog

__all__ = ["Watches"]

log = logging.getLogger(__name__)

_now = time.monotonic


class Watches:
    """The watches of one engine's DB-API connections.

    ``socket_of(dbapi_connection)`` returns the connection's socket descriptor (the driver
    knows where its library keeps it), ``None`` if it cannot tell.
    """

    def __init__(
        self,
        engine: Engine,
        label: str,
        *,
        socket_of: Callable[[Any], int | None],
        query_timeout: float,
        connect_timeout: float,
    ) -> None:
        self.label = label
        self.query_timeout = query_timeout
        self.connect_timeout = connect_timeout
        self._socket_of = socket_of
        self._by_conn: weakref.WeakKeyDictionary[Any, Watch] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._warned = False
        dialect: Any = engine.dialect
        ping, initialize = dialect.do_ping, dialect.initialize

        def do_ping(dbapi_connection: Any) -> bool:
            with self.of(dbapi_connection).bounded(label):
                return bool(ping(dbapi_connection))

        def bounded_initialize(connection: sqlalchemy.Connection) -> None:
            with self.of(connection.connection.dbapi_connection).bounded(label):
                initialize(connection)

        dialect.do_ping = do_ping
        dialect.initialize = bounded_initialize

    def __repr__(self) -> str:
        return f"<Watches {self.label} {len(self._by_conn)} connections>"

    def of(self, dbapi_connection: Any) -> Watch:
        """The watch of a DB-API connection (made on first use)."""
        watch = self._by_conn.get(dbapi_connection)
        if watch is None:
            with self._lock:
                watch = self._by_conn.get(dbapi_connection)
                if watch is None:
                    watch = watchdog().watch(self._fd(dbapi_connection), self.query_timeout)
                    self._by_conn[dbapi_connection] = watch
        return watch

    def _fd(self, dbapi_connection: Any) -> int | None:
        try:
            fd = self._socket_of(dbapi_connection)
        except Exception as exc:  # a library without the attribute we know
            fd, reason = None, f"{type(exc).__name__}: {exc}"
        else:
            reason = "no socket"
        if fd is None and not self._warned:
            self._warned = True
            log.warning(
                "%s: cannot find the socket of a %s connection (%s); a call that gets no "
                "answer ends only by the client library's own timeouts",
                self.label,
                type(dbapi_connection).__name__,
                reason,
            )
        return fd

    @contextlib.contextmanager
    def bounded(self, connection: sqlalchemy.Connection) -> Iterator[None]:
        """Run a block on a SQLAlchemy connection (reflection, DDL) under one query_timeout.

        On :class:`TimedOut` the connection is invalidated (never pooled again).
        """
        watch = self.of(connection.connection.dbapi_connection)
        try:
            with watch.bounded(self.label):
                yield
        except TimedOut:
            with contextlib.suppress(Exception):
                connection.invalidate()
            raise

    def connect(self, dialect: Any, cargs: Any, cparams: Any) -> Any:
        """The DB-API connect (for a ``do_connect`` listener), timed: a connect that ran out of
        ``connect_timeout`` raises :class:`TimedOut` saying so."""
        start = _now()
        try:
            return dialect.loaded_dbapi.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.Error:
            if _now() - start >= 0.95 * self.connect_timeout:  # the libraries round down
                raise TimedOut(
                    f"{self.label}: cannot connect: no answer within connect_timeout = "
                    f"{self.connect_timeout:g} s"
                ) from None
            raise
