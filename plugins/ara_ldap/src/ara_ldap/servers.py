"""The servers of one pool (``url = ldap://a ldap://b``): which one new connections go to.

New connections go to the first server in the listed order that is not *out*. With one
server listed nothing is ever taken out (there is nowhere else to go: every request tries
it). With several, a server is taken out when a connection to it cannot be opened or bound,
or breaks, or a request on it gets no answer in time; a new connection then goes to the
next one at once. A server taken out is probed in the background (0.25 s after, then at
doubling intervals up to 2 s): a connection opened, bound and answering a read of the root
DSE puts it back, and idle connections to servers listed after it are closed, so requests
return to it (a replica's provider listed second is left again once the replica is back).
When every server is out a request fails at once.

Why not ldap3's ``ServerPool``: its health check is a TCP connect, which a stalled server
(stopped, or behind a proxy) passes, and when no server answers it sleeps
``POOLING_LOOP_TIMEOUT`` (10 s, a process-wide setting) before raising, which breaks the
bound of every request.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ldap3

from ara_realtime import BackendError

from .config import Settings

__all__ = ["Server", "Servers"]

log = logging.getLogger("ara_ldap")

_now = time.monotonic

#: Seconds from a server's failure to its first probe, and the most between two probes.
FIRST_PROBE, MAX_PROBE_INTERVAL = 0.25, 2.0


@dataclass(eq=False)
class Server:
    """One listed server and whether new connections may go to it."""

    url: str
    server: ldap3.Server
    up: bool = True
    #: Why it was taken out (no password), and since when.
    reason: str | None = None
    down_since: float = 0.0


def _server(url: str, settings: Settings) -> ldap3.Server:
    tls = None
    if url.startswith("ldaps://") or settings.starttls:
        tls = ldap3.Tls(
            validate=ssl.CERT_REQUIRED if settings.tls_verify else ssl.CERT_NONE,
            ca_certs_file=settings.cafile,
        )
    return ldap3.Server(
        url,
        use_ssl=url.startswith("ldaps://"),
        tls=tls,
        get_info=ldap3.NONE,
        connect_timeout=settings.connect_timeout,
    )


class Servers:
    """The listed servers of one pool, in order, with their health.

    :param probe: opens, binds and checks a connection to a server (raising
        ``BackendError`` when it cannot); used to put a server back.
    :param failed_over: called when a server comes back, so the pool drops idle connections
        to the servers listed after it.
    """

    def __init__(
        self,
        urls: Sequence[str],
        settings: Settings,
        label: str,
        *,
        probe: Callable[[Server], None],
        came_back: Callable[[Server], None],
    ) -> None:
        self.label = label
        self.all = [Server(url, _server(url, settings)) for url in urls]
        self.failover = len(self.all) > 1
        self._probe = probe
        self._came_back = came_back
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def __repr__(self) -> str:
        return f"<Servers {[(s.url, s.up) for s in self.all]}>"

    def candidates(self) -> list[Server]:
        """The servers a new connection may go to, in order (every server if only one)."""
        if not self.failover:
            return self.all
        return [s for s in self.all if s.up]

    def of(self, server: ldap3.Server) -> Server | None:
        """The listed server a connection was opened to."""
        return next((s for s in self.all if s.server is server), None)

    def current(self) -> Server | None:
        """The server new connections go to now (``None``: every one is out)."""
        found = self.candidates()
        return found[0] if found else None

    def none_left(self, failed: Sequence[str]) -> BackendError:
        seen = set(failed)
        out = [f"{s.url}: {s.reason}" for s in self.all if not s.up]
        detail = "; ".join([*failed, *(o for o in out if o not in seen)])
        return BackendError(f"{self.label}: no server can take requests ({detail})")

    def take_out(self, server: Server, reason: str) -> None:
        """New connections stop going to ``server``; it is probed until it answers again."""
        if not self.failover:
            return
        with self._lock:
            if not server.up or self._closed.is_set():
                return
            server.up = False
            server.reason = reason
            server.down_since = _now()
        nxt = self.current()
        log.warning(
            "%s: server %s taken out (%s); %s",
            self.label,
            server.url,
            reason,
            f"requests go to {nxt.url}" if nxt else "no server left",
        )
        threading.Thread(
            target=self._probe_until_back, args=(server,), daemon=True, name="ara-ldap-probe"
        ).start()

    def _probe_until_back(self, server: Server) -> None:
        wait = FIRST_PROBE
        while not self._closed.wait(wait):
            try:
                self._probe(server)
            except BackendError as exc:
                server.reason = str(exc)
                wait = min(wait * 2, MAX_PROBE_INTERVAL)
                continue
            with self._lock:
                server.up = True
                server.reason = None
            log.info(
                "%s: server %s is back after %.1f s",
                self.label,
                server.url,
                _now() - server.down_since,
            )
            self._came_back(server)
            return

    def after(self, server: Server) -> list[Server]:
        """The servers listed after ``server``."""
        return self.all[self.all.index(server) + 1 :]

    def close(self) -> None:
        self._closed.set()
