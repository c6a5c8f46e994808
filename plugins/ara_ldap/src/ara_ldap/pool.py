"""A bounded pool of bound ldap3 connections, with re-binding and bounded retries.

Each thread borrows one connection for one request, so ldap3's synchronous strategy is used
without sharing a socket. Every step is bounded: opening the socket (``connect_timeout``),
StartTLS and bind (``bind_timeout``), every request (``timeout``, also sent to the server as
the search time limit) and waiting for a free connection (``pool_timeout``).

A connection the server dropped (a restart, an idle timeout) is noticed on its next use: it is
thrown away and the request is sent again on a new, freshly bound connection, at most
``retries`` more times. A request that timed out is not sent again (the server is stalled, and
the caller's bound would be multiplied); neither is a request the server answered with an error.
Anything but a caller's mistake becomes :class:`~ara_realtime.BackendError`, whose message
names the server and the bind DN but never the password.

With several servers listed (:mod:`ara_ldap.servers`), a new connection goes to the first one
not taken out; a connection that cannot be opened or bound, or breaks, or a request without
an answer in time, takes its server out, and a request sent again goes to the next one.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

import ldap3
from ldap3.core.exceptions import LDAPException

from ara_realtime import BackendError

from .config import Settings
from .servers import Server, Servers

__all__ = ["Found", "Pool", "Scope", "ServerRefused"]

log = logging.getLogger("ara_ldap")

T = TypeVar("T")

#: A search scope, as ldap3 spells it.
Scope = Literal["BASE", "LEVEL", "SUBTREE"]

#: Result codes after which the connection is no longer usable (re-bind and retry).
_GONE = frozenset({52})  # unavailable (also OpenLDAP's notice of disconnection)


class Found(list[dict[str, Any]]):
    """The entries a search returned; ``truncated`` when our own ``size_limit`` cut it short."""

    truncated = False


class ServerRefused(Exception):
    """The server answered a request with an error result (handled by the caller)."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result
        super().__init__(f"{result.get('description')}: {result.get('message')}")


def _timed_out(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, (socket.timeout, TimeoutError)) or "timed out" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class Pool:
    """Connections to a directory server (the first healthy of ``urls``), bound as the
    configured user."""

    def __init__(self, settings: Settings, label: str, urls: Sequence[str] = ()) -> None:
        self.settings = settings
        self.label = label
        self.servers = Servers(
            urls or settings.urls,
            settings,
            label,
            probe=self._probe,
            came_back=self._came_back,
        )
        self._idle: list[ldap3.Connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(settings.pool_size)
        self._in_use = 0
        self._closed = False
        self.time_limit = max(1, int(settings.timeout + 0.999))

    def __repr__(self) -> str:
        return f"<ara_ldap Pool {self.label}>"

    # -- connections ------------------------------------------------------------------

    def _open(self) -> ldap3.Connection:
        """A bound connection to the first server that takes one (servers that cannot are
        taken out, when there are others)."""
        failed: list[str] = []
        for server in self.servers.candidates():
            try:
                return self._connect(server)
            except BackendError as exc:
                if not self.servers.failover:
                    raise
                why = str(exc).removeprefix(f"{self.label}: ")
                self.servers.take_out(server, why)
                failed.append(f"{server.url}: {why}")
        raise self.servers.none_left(failed)

    def _connect(self, target: Server) -> ldap3.Connection:
        s = self.settings
        label = f"{self.label} ({target.url})" if self.servers.failover else self.label
        conn = ldap3.Connection(
            target.server,
            user=s.user,
            password=s.password,
            client_strategy=ldap3.SYNC,  # one thread at a time (the pool): no copies
            auto_bind=ldap3.AUTO_BIND_NONE,
            raise_exceptions=False,
            check_names=False,
            auto_referrals=False,
            return_empty_attributes=False,
        )
        # ldap3 marks an address that refused a connection as unusable for a while: the
        # driver's own back-off decides instead (a server back after a restart is used at once)
        target.server.reset_availability()
        try:
            conn.open(read_server_info=False)
            _abort_on_close(conn.socket)
            conn.socket.settimeout(s.bind_timeout)
            if s.starttls and not conn.start_tls(read_server_info=False):
                raise BackendError(f"{label}: StartTLS refused: {conn.last_error}")
            if not conn.bind(read_server_info=False):
                result = conn.result
                who = s.user or "anonymous"
                raise BackendError(f"{label}: bind as {who} refused: {result.get('description')}")
            conn.socket.settimeout(s.timeout)
        except BackendError:
            _quietly_unbind(conn)
            raise
        except (LDAPException, OSError) as exc:
            _quietly_unbind(conn)
            what = "timed out" if _timed_out(exc) else f"{type(exc).__name__}: {exc}"
            raise BackendError(f"{label}: cannot connect: {what}") from exc
        return conn

    def _probe(self, target: Server) -> None:
        """Open, bind and read the root DSE: ``BackendError`` unless ``target`` answers."""
        conn = self._connect(target)
        try:
            ok = conn.search(
                "", "(objectClass=*)", ldap3.BASE, attributes=["1.1"], time_limit=self.time_limit
            )
            if not ok:
                raise BackendError(f"{target.url}: root DSE: {conn.result.get('description')}")
        except (LDAPException, OSError) as exc:
            raise BackendError(f"{target.url}: probe: {type(exc).__name__}: {exc}") from None
        finally:
            _quietly_unbind(conn)

    def _came_back(self, target: Server) -> None:
        """Close idle connections to servers listed after ``target``: requests return to it."""
        later = {id(s.server) for s in self.servers.after(target)}
        with self._lock:
            drop = [c for c in self._idle if id(c.server) in later]
            self._idle = [c for c in self._idle if id(c.server) not in later]
        for conn in drop:
            _quietly_unbind(conn)

    def _failed(self, conn: ldap3.Connection, reason: str) -> None:
        """A request on ``conn`` failed as a server failure: take its server out (with its
        idle connections), when there are others."""
        target = self.servers.of(conn.server)
        if target is None or not self.servers.failover:
            return
        self.servers.take_out(target, reason)
        with self._lock:
            drop = [c for c in self._idle if c.server is target.server]
            self._idle = [c for c in self._idle if c.server is not target.server]
        for idle in drop:
            _quietly_unbind(idle)

    def current_url(self) -> str | None:
        """The server new connections go to now (``None``: every one is out)."""
        found = self.servers.current()
        return found.url if found is not None else None

    def _borrow(self) -> ldap3.Connection:
        if not self._slots.acquire(timeout=self.settings.pool_timeout):
            raise BackendError(
                f"{self.label}: no free connection within {self.settings.pool_timeout:g} s "
                f"(pool_size {self.settings.pool_size})"
            )
        with self._lock:
            conn = self._idle.pop() if self._idle else None
            self._in_use += 1
        if conn is not None and not conn.closed:
            return conn
        try:
            return self._open()
        except BaseException:
            with self._lock:
                self._in_use -= 1
            self._slots.release()
            raise

    def _give_back(self, conn: ldap3.Connection, healthy: bool) -> None:
        try:
            with self._lock:
                self._in_use -= 1
                if healthy and not self._closed and not conn.closed:
                    self._idle.append(conn)
                    return
            if healthy:
                _quietly_unbind(conn)
            else:
                _abort(conn)
        finally:
            self._slots.release()

    def status(self) -> dict[str, int]:
        """Connections lent out, idle, and the limit (``Realtime.status``)."""
        with self._lock:
            return {
                "in_use": self._in_use,
                "idle": len(self._idle),
                "limit": self.settings.pool_size,
            }

    def _drop_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            _quietly_unbind(conn)

    def close(self) -> None:
        """Unbind every idle connection (borrowed ones are unbound when given back)."""
        self._closed = True
        self.servers.close()
        self._drop_idle()

    # -- requests ---------------------------------------------------------------------

    def run(self, request: Callable[[ldap3.Connection], T], what: str) -> T:
        """``request(connection)`` on a pooled connection, retried on a dropped connection."""
        if self._closed:
            raise BackendError(f"{self.label}: connection closed")
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            conn = self._borrow()
            healthy = False
            try:
                result = request(conn)
                healthy = True
                return result
            except ServerRefused as exc:
                healthy = exc.result.get("result") not in _GONE
                if healthy:
                    raise  # the server's answer: the caller decides what it means
                self._failed(conn, f"{what}: {exc}")
                if attempt + 1 == attempts:
                    raise BackendError(f"{self.label}: {what}: {exc}") from exc
                self._drop_idle()
                log.info("%s: %s: server unavailable, reconnecting", self.label, what)
            except (LDAPException, OSError) as exc:
                why = "timed out" if _timed_out(exc) else f"{type(exc).__name__}: {exc}"
                self._failed(conn, f"{what}: {why}")
                if _timed_out(exc) or attempt + 1 == attempts:
                    raise BackendError(f"{self.label}: {what}: {why}") from exc
                log.info("%s: %s: connection lost (%s), reconnecting", self.label, what, exc)
                self._drop_idle()  # after a server restart every idle connection is stale
            finally:
                self._give_back(conn, healthy)
            if attempt:
                time.sleep(min(0.05 * 2**attempt, 1.0))
        raise AssertionError("unreachable")  # pragma: no cover

    def search(
        self,
        base: str,
        scope: Scope,
        search_filter: str,
        attributes: list[str],
        *,
        size_limit: int = 0,
        paged: bool = True,
        enough: Callable[[list[dict[str, Any]]], bool] | None = None,
    ) -> Found:
        """Entries (ldap3 response dicts) found; paged when ``paged`` and no ``size_limit``.

        ``enough(page)``, when given, ends a paged search early once it returns True. A
        size limit of the server's own (not ``size_limit``) is an error, never a short answer.
        """
        page = self.settings.page_size if paged and not size_limit else None

        def request(conn: ldap3.Connection) -> Found:
            found = Found()
            cookie: bytes | None = None
            while True:
                conn.search(
                    base,
                    search_filter,
                    scope,
                    ldap3.DEREF_NEVER,
                    attributes,
                    size_limit,
                    self.time_limit,
                    paged_size=page,
                    paged_cookie=cookie,
                )
                result, response = conn.result, conn.response or []
                code = result["result"]
                if code == 4 and size_limit and len(response) >= size_limit:
                    found.truncated = True  # sizeLimitExceeded: the limit we asked for
                elif code != 0:
                    raise ServerRefused(result)
                found.extend(response)
                if page is None:
                    return found
                cookie = (
                    result.get("controls", {})
                    .get("1.2.840.113556.1.4.319", {})
                    .get("value", {})
                    .get("cookie")
                )
                if not cookie:
                    return found
                if enough is not None and enough(response):
                    conn.search(  # a page size of 0 ends the paged search on the server
                        base,
                        search_filter,
                        scope,
                        ldap3.DEREF_NEVER,
                        attributes,
                        0,
                        self.time_limit,
                        paged_size=0,
                        paged_cookie=cookie,
                    )
                    return found

        return self.run(request, f"search under {base!r}")

    def write(self, call: Callable[[ldap3.Connection], Any], what: str) -> dict[str, Any]:
        """One write (add, modify, delete); the result dict, even when it is an error.

        ``resent`` in the result is True when the request had to be sent again after a
        connection broke under it: the first one may have been applied (so "already exists"
        after an add, or "no such object" after a delete, may be that first one's doing).
        """
        sent = 0

        def request(conn: ldap3.Connection) -> dict[str, Any]:
            nonlocal sent
            sent += 1
            call(conn)
            result = conn.result
            if result["result"] in _GONE:
                raise ServerRefused(result)
            return dict(result)

        result = self.run(request, what)
        result["resent"] = sent > 1
        return result

    def statuses(self) -> list[tuple[str, bool, str | None]]:
        """``(url, up, reason)`` of every listed server, in order."""
        return [(s.url, s.up, s.reason) for s in self.servers.all]


#: SO_LINGER on, zero seconds: closing the socket resets the connection and drops what is
#: still unsent.
_LINGER_ZERO = struct.pack("ii", 1, 0)


def _abort_on_close(sock: socket.socket | None) -> None:
    """Make every close of ``sock`` an abort (SO_LINGER 0), set when it is opened: ldap3 itself
    closes a socket a request timed out on, and a normal close would leave the unanswered
    request in the kernel, resent by TCP until a cut path carries packets again, and applied
    after the caller was told it failed (overwriting a later write that succeeded). Nothing
    else is lost: a request whose answer came was delivered whole, and an unbind dropped is
    one the server no longer needs."""
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)


def _abort(conn: ldap3.Connection) -> None:
    """Close a connection a request failed on at once (a reset, see :func:`_abort_on_close`).
    No unbind: it would wait behind that request."""
    sock = conn.socket
    if sock is None:
        return
    _abort_on_close(sock)
    with contextlib.suppress(OSError):
        sock.close()
    conn.closed = True


def _quietly_unbind(conn: ldap3.Connection) -> None:
    with contextlib.suppress(LDAPException, OSError):  # a dead socket
        conn.unbind()
