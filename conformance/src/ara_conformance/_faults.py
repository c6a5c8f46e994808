"""Fault injection: a wrapper plugin that makes chosen databases raise ``BackendError``.

Used only for drivers whose storage the suite cannot really take down (``memory``, or a
target that does not override :meth:`Target.outage`). The wrapper learns which connection
belongs to which database from ``ara_connect`` and refuses every operation on a database
that is "down", exactly as a driver must when its server is gone.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import Any

from ara_realtime import BackendError, hookimpl

__all__ = ["FaultInjector"]

_Wrap = Generator[None, Any, Any]


class FaultInjector:
    """Wrapper plugin: ``down.add(database)`` makes that database fail."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self._lock = threading.Lock()
        self._conns: dict[int, tuple[object, str]] = {}

    def _check(self, connection: object) -> None:
        with self._lock:
            entry = self._conns.get(id(connection))
        if entry is not None and entry[0] is connection and entry[1] in self.down:
            raise BackendError(f"injected fault: database {entry[1]!r} is down")

    @hookimpl(wrapper=True)
    def ara_connect(self, database: str) -> _Wrap:
        if database in self.down:
            raise BackendError(f"injected fault: database {database!r} is down")
        conn = yield
        with self._lock:
            self._conns[id(conn)] = (conn, database)
        return conn

    @hookimpl(wrapper=True)
    def ara_load(self, connection: object) -> _Wrap:
        self._check(connection)
        return (yield)

    @hookimpl(wrapper=True)
    def ara_load_multi(self, connection: object) -> _Wrap:
        self._check(connection)
        return (yield)

    @hookimpl(wrapper=True)
    def ara_update(self, connection: object) -> _Wrap:
        self._check(connection)
        return (yield)

    @hookimpl(wrapper=True)
    def ara_update2(self, connection: object) -> _Wrap:
        self._check(connection)
        return (yield)

    @hookimpl(wrapper=True)
    def ara_store(self, connection: object) -> _Wrap:
        self._check(connection)
        return (yield)

    @hookimpl(wrapper=True)
    def ara_destroy(self, connection: object) -> _Wrap:
        self._check(connection)
        return (yield)

    @hookimpl(wrapper=True)
    def ara_require(self, connection: object) -> _Wrap:
        self._check(connection)
        return (yield)

    @hookimpl(wrapper=True)
    def ara_load_static(self, connection: object) -> _Wrap:
        self._check(connection)
        return (yield)
