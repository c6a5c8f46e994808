"""A private network of namespaces on this host, whose members can be cut off one by one.

Clustered servers (Galera nodes, LDAP replicas) talk to each other as well as to their
clients, so cutting one node off means cutting every path to it, not only the client's
(:class:`~ara_testservers.faults.NetPath` relays one client path). ``Lan(n)`` builds:

* a *switch*: a network namespace of its own holding a bridge;
* ``n`` *member* namespaces, each attached to the bridge by a veth pair, with the address
  ``10.X.Y.(11 + i)`` (``member_ip(i)``); a server started with :meth:`Lan.command` runs in
  member ``i`` and listens there (every member may use the same ports);
* the test's own (root) namespace, attached by one more veth pair as ``10.X.Y.1``: clients
  in this process reach the members directly, without a relay.

Everything is on one layer-2 segment: no routing and no ``ip_forward`` in the root namespace.
Every participant has fixed neighbour entries for all others, so :meth:`Lan.cut` (the
switch's port of a member taken down) drops packets in both directions without an answer
(no RST, no ICMP, no failing address resolution), as on a dead link; :meth:`Lan.restore`
brings the port back and open connections resume. It needs root and ``ip`` (iproute2).
Namespaces left by a killed run (``ara-lan-PID-N...`` whose PID is gone) are removed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import os
import random
import threading
from types import TracebackType

from .faults import _ip, cut_for_block, netns_unavailable, reap_stale_netns
from .servers import ServerError

__all__ = ["Lan"]

_names = itertools.count()


class Lan:
    """``members`` namespaces and this one on a private bridge; each member can be cut."""

    def __init__(self, members: int) -> None:
        reason = netns_unavailable()
        if reason is not None:
            raise ServerError(f"cannot build a private network: {reason}")
        reap_stale_netns("lan")
        n = next(_names)
        self.switch = f"ara-lan-{os.getpid()}-{n}"
        self.members = [f"{self.switch}-{i}" for i in range(members)]
        self._root_dev = f"aral{os.getpid() % 100000}{n}"[:15]
        self._made: list[str] = []
        self._lock = threading.Lock()
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"<Lan {self.host_ip} + {len(self.members)} members>"

    def __enter__(self) -> Lan:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _subnet(self) -> ipaddress.IPv4Network:
        used = _ip("-4", "-o", "addr", "show")
        for _ in range(100):
            prefix = f"10.{random.randint(240, 254)}.{random.randint(0, 255)}"
            if f" {prefix}." not in used:
                return ipaddress.IPv4Network(f"{prefix}.0/24")
        raise ServerError("no free /24 subnet in 10.240.0.0/12")

    def member_ip(self, index: int) -> str:
        """The address of member ``index`` (0-based)."""
        return str(self._net.network_address + 11 + index)

    def _build(self) -> None:
        self._net = net = self._subnet()
        self.host_ip = str(net.network_address + 1)
        sw = self.switch
        _ip("netns", "add", sw)
        self._made.append(sw)
        _ip("-n", sw, "link", "set", "lo", "up")
        _ip("-n", sw, "link", "add", "br0", "type", "bridge")
        _ip("-n", sw, "link", "set", "br0", "up")
        # (interface, namespace or None for this one, address, the switch port)
        ends: list[tuple[str, str | None, str, str]] = []
        _ip("link", "add", self._root_dev, "type", "veth", "peer", "name", "host", "netns", sw)
        ends.append((self._root_dev, None, self.host_ip, "host"))
        for i, member in enumerate(self.members):
            _ip("netns", "add", member)
            self._made.append(member)
            _ip("-n", member, "link", "set", "lo", "up")
            port = f"m{i}"
            _ip(
                "-n",
                sw,
                "link",
                "add",
                port,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                member,
            )
            ends.append(("eth0", member, self.member_ip(i), port))
        macs: dict[str, str] = {}
        for dev, ns, addr, port in ends:
            where = ("-n", ns) if ns else ()
            _ip("-n", sw, "link", "set", port, "master", "br0")
            _ip("-n", sw, "link", "set", port, "up")
            _ip(*where, "addr", "add", f"{addr}/{net.prefixlen}", "dev", dev)
            _ip(*where, "link", "set", dev, "up")
            macs[addr] = _ip(*where, "link", "show", dev).split("link/ether ")[1].split()[0]
        # fixed neighbour entries: a cut drops packets silently instead of failing address
        # resolution after a few seconds ("no route to host"), as behind a switch
        for dev, ns, addr, _ in ends:
            where = ("-n", ns) if ns else ()
            for other, mac in macs.items():
                if other != addr:
                    _ip(
                        *where,
                        "neigh",
                        "replace",
                        other,
                        "lladdr",
                        mac,
                        "dev",
                        dev,
                        "nud",
                        "permanent",
                    )

    def command(self, index: int, argv: list[str]) -> list[str]:
        """``argv`` run inside member ``index`` (``ip netns exec`` replaces itself with it,
        so the process started keeps its PID)."""
        return ["ip", "netns", "exec", self.members[index], *argv]

    def cut(self, index: int) -> None:
        """Drop every packet to and from member ``index``."""
        _ip("-n", self.switch, "link", "set", f"m{index}", "down")

    def restore(self, index: int) -> None:
        """Carry member ``index``'s packets again."""
        _ip("-n", self.switch, "link", "set", f"m{index}", "up")

    def down(self, index: int, limit: float = 120.0) -> contextlib.AbstractContextManager[None]:
        """Member ``index`` is cut off for the block (reconnected after ``limit`` seconds at
        the latest)."""
        return cut_for_block(lambda: self.cut(index), lambda: self.restore(index), limit)

    def close(self) -> None:
        """Remove every namespace (their veth ends go with them) and this end."""
        with self._lock:
            made, self._made = self._made, []
        with contextlib.suppress(ServerError):
            _ip("link", "del", self._root_dev)
        for name in reversed(made):
            with contextlib.suppress(ServerError):
                _ip("netns", "del", name)
