"""Network faults for timeout tests: a listener that never answers, a path that can be cut.

``Blackhole()`` listens on a loopback port and never accepts: the kernel completes the TCP
handshake (up to the backlog), so a client connects and then waits for a greeting that never
comes. ``Netns()`` is a network namespace joined to this host's by a veth pair: a server
started inside it (``Netns.prefix()``: ``ip netns exec``) listens on ``Netns.host``, which
clients here reach over the pair, as over a routed network: the server sees the client's own
address and port. ``NetPath(port)`` puts such a namespace between a client and a server already
running here: the client connects to an address inside the namespace and a relay there forwards
to ``127.0.0.1:port`` (so the server sees the relay's port, not the client's). ``cut()`` takes
the namespace's end of the pair down, so packets in either direction are dropped without an
answer (no RST, no ICMP), as on a dead network; ``restore()`` brings it back. Both need root and
``ip`` (iproute2).
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import itertools
import os
import random
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from types import TracebackType

from .ci import unavailable
from .servers import ServerError

__all__ = ["Blackhole", "NetPath", "Netns", "netns_unavailable"]

_CLONE_NEWNET = 0x40000000
_names = itertools.count()


class Blackhole:
    """A loopback TCP port that accepts connections (in the kernel) and never answers."""

    def __init__(self, backlog: int = 64) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(backlog)
        self.host = "127.0.0.1"
        self.port: int = self._sock.getsockname()[1]

    def __repr__(self) -> str:
        return f"<Blackhole {self.host}:{self.port}>"

    def __enter__(self) -> Blackhole:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._sock.close()


def netns_unavailable() -> str | None:
    """Why :class:`NetPath` cannot work here, or ``None`` if it can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (ip) is not installed"
    if not os.path.exists("/proc/self/ns/net"):
        return "the kernel has no network namespaces"
    return None


def require_netns(what: str) -> None:
    """Network namespaces are needed for ``what``: fail in CI without them, skip elsewhere."""
    reason = netns_unavailable()
    if reason is not None:
        unavailable(what, reason)


def _ip(*args: str) -> str:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ServerError(f"ip {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def reap_stale_netns(kind: str) -> None:
    """Remove the namespaces of killed test runs (``ara-<kind>-PID-...`` whose PID is gone)."""
    for line in _ip("netns", "list").splitlines():
        parts = (line.split()[0] if line.strip() else "").split("-")
        mine = len(parts) >= 4 and parts[:2] == ["ara", kind] and parts[2].isdigit()
        if mine and not os.path.exists(f"/proc/{parts[2]}"):
            with contextlib.suppress(ServerError):
                _ip("netns", "del", "-".join(parts))  # takes its veth ends with it


@contextlib.contextmanager
def cut_for_block(
    cut: Callable[[], None], restore: Callable[[], None], limit: float
) -> Iterator[None]:
    """``cut()`` for the block, ``restore()`` after it, and after ``limit`` seconds at the
    latest, so a call that never returns fails its test instead of hanging the run."""
    cut()
    guard = threading.Timer(limit, restore)
    guard.daemon = True
    guard.start()
    try:
        yield
    finally:
        guard.cancel()
        restore()


def _setns(fd: int) -> None:
    if hasattr(os, "setns"):  # Python 3.12+
        os.setns(fd, _CLONE_NEWNET)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class Netns:
    """A network namespace joined to this host's by a veth pair, which can be cut.

    ``host`` is the address of the namespace's end (a server inside listens there), reached
    from here over the pair. Everything is removed on :meth:`close`.
    """

    def __init__(self) -> None:
        reason = netns_unavailable()
        if reason is not None:
            raise ServerError(f"cannot build a network path: {reason}")
        reap_stale_netns("path")
        n = next(_names)
        self.name = f"ara-path-{os.getpid()}-{n}"
        tag = f"{os.getpid() % 100000}{n}"  # interface names have 15 characters at most
        self._outer, self._inner = f"arah{tag}"[:15], f"aran{tag}"[:15]
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"<Netns {self.name} {self.host}>"

    def __enter__(self) -> Netns:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _subnet(self) -> ipaddress.IPv4Network:
        used = _ip("-4", "-o", "addr", "show")
        for _ in range(100):
            net = ipaddress.IPv4Network(
                f"10.{random.randint(200, 239)}.{random.randint(0, 255)}."
                f"{random.randrange(0, 256, 4)}/30"
            )
            if not any(f"{h} " in used or f"{h}/" in used for h in net.hosts()):
                return net
        raise ServerError("no free /30 subnet in 10.200.0.0/12")

    def _build(self) -> None:
        net = self._subnet()
        outer_ip, inner_ip = (str(h) for h in net.hosts())
        _ip("netns", "add", self.name)
        _ip("link", "add", self._outer, "type", "veth", "peer", "name", self._inner)
        _ip("link", "set", self._inner, "netns", self.name)
        _ip("addr", "add", f"{outer_ip}/30", "dev", self._outer)
        _ip("link", "set", self._outer, "up")
        _ip("-n", self.name, "addr", "add", f"{inner_ip}/30", "dev", self._inner)
        _ip("-n", self.name, "link", "set", self._inner, "up")
        _ip("-n", self.name, "link", "set", "lo", "up")
        # fixed neighbour entries: a cut drops packets silently instead of failing address
        # resolution after a few seconds ("no route to host"), as behind a router
        for ns, dev, peer_dev, peer_ip in (
            ((), self._outer, ("-n", self.name, "link", "show", self._inner), inner_ip),
            (("-n", self.name), self._inner, ("link", "show", self._outer), outer_ip),
        ):
            mac = _ip(*peer_dev).split("link/ether ")[1].split()[0]
            _ip(*ns, "neigh", "replace", peer_ip, "lladdr", mac, "dev", dev, "nud", "permanent")
        self.host = inner_ip
        self.outer_host = outer_ip

    def prefix(self) -> list[str]:
        """The command prefix that runs a program inside the namespace."""
        return ["ip", "netns", "exec", self.name]

    def enter(self) -> None:
        """Move the calling thread into the namespace (sockets it opens stay there)."""
        with open(f"/run/netns/{self.name}") as ns:
            _setns(ns.fileno())

    def cut(self) -> None:
        """Drop every packet between this host and the namespace, both ways."""
        _ip("-n", self.name, "link", "set", self._inner, "down")

    def restore(self) -> None:
        """Carry packets again (connections that outlived the cut resume)."""
        _ip("-n", self.name, "link", "set", self._inner, "up")

    def down(self, limit: float = 60.0) -> contextlib.AbstractContextManager[None]:
        """The path is cut for the block (restored after ``limit`` seconds at the latest)."""
        return cut_for_block(self.cut, self.restore, limit)

    def close(self) -> None:
        """Remove the veth pair and the namespace (stop what runs inside first)."""
        with contextlib.suppress(ServerError):
            _ip("link", "del", self._outer)  # takes the peer with it
        with contextlib.suppress(ServerError):
            _ip("netns", "del", self.name)


class NetPath:
    """A path to ``127.0.0.1:port`` through a network namespace, which can be cut.

    Connect to ``(host, port)`` of this object. Everything is removed on :meth:`close`.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.ns = Netns()
        self.netns = self.ns.name
        self.host = self.ns.host
        self._listener: socket.socket | None = None
        self._links: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        try:
            self._listen()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"<NetPath {self.host}:{self.port} -> 127.0.0.1:{self.target_port}>"

    def __enter__(self) -> NetPath:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _listen(self) -> None:
        # the relay listens inside the namespace: a short-lived thread enters it and opens
        # the socket, which stays in that namespace whichever thread uses it later
        made: list[socket.socket | BaseException] = []

        def listen() -> None:
            try:
                self.ns.enter()
                sock = socket.socket()
                sock.bind((self.host, 0))
                sock.listen(64)
                made.append(sock)
            except BaseException as exc:
                made.append(exc)

        t = threading.Thread(target=listen)
        t.start()
        t.join()
        if isinstance(made[0], BaseException):
            raise ServerError(f"cannot listen in {self.netns}: {made[0]}")
        self._listener = made[0]
        self.port: int = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True, name=f"{self.netns}-relay").start()

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._closed:
                    client.close()
                    upstream.close()
                    return
                self._links += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    def cut(self) -> None:
        """Drop every packet between the client and the namespace, both ways."""
        self.ns.cut()

    def restore(self) -> None:
        """Carry packets again (connections that outlived the cut resume)."""
        self.ns.restore()

    def down(self, limit: float = 60.0) -> contextlib.AbstractContextManager[None]:
        """The path is cut for the block (see :meth:`Netns.down`)."""
        return self.ns.down(limit)

    def close(self) -> None:
        """Stop the relay and remove the namespace and the veth pair."""
        with self._lock:
            self._closed = True
            links, self._links = self._links, []
        if self._listener is not None:
            self._listener.close()
        for sock in links:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.ns.close()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
