"""An OpenLDAP provider and a read-only syncrepl consumer as a fault-matrix cluster.

:class:`LdapSyncCluster` adapts :class:`~ara_testservers.ldapsync.LdapReplicaCluster` (each
``slapd`` in a network namespace of its own on a private network) to the
:class:`~ara_testservers.faultmatrix.Cluster` protocol:

* ``nodes()``: ``provider`` (its loss stops every write), then ``consumer``;
* ``mappings()``: a new ``araTable`` per call, made on the provider and waited for on the
  consumer; ``url`` lists the consumer, then the provider (reads from the consumer, the
  provider while it is out), and writes go to ``write_url`` (the provider), or, with
  ``referral=True``, through the consumer's referral;
* ``fault(kind, node)``: every kind applies to both nodes. ``netcut`` takes the node off the
  network altogether, from its clients and from the other node (replication stops too); on
  leaving, the block returns once the node is back and the consumer has caught up;
* ``synchronous = False``: syncrepl is asynchronous, so losses are measured, not asserted;
* ``replicas()`` reads the run's table on each node alone, once the consumer caught up;
  ``settle()`` waits for that catching up, for a runner reading back through the consumer
  right after the workload's last write (replication takes milliseconds).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import Any

from .faultmatrix import CONNECT_TIMEOUT, FAULT_KINDS, QUERY_TIMEOUT
from .ldapsync import LdapReplicaCluster

__all__ = ["LdapSyncCluster"]

Mappings = tuple[dict[str, str], dict[str, dict[str, dict[str, str]]]]
_tables = itertools.count(1)


def _timeouts() -> dict[str, str]:
    connect = str(CONNECT_TIMEOUT)
    return {"timeout": f"{QUERY_TIMEOUT:g}", "connect_timeout": connect, "bind_timeout": connect}


class LdapSyncCluster:
    """The ``ldap`` driver on a syncrepl provider and a read-only consumer."""

    driver = "ldap"
    synchronous = False

    def __init__(self, *, referral: bool = False, cluster: LdapReplicaCluster | None = None):
        """``referral``: no ``write_url``, writes follow the consumer's referral.
        ``cluster``: a pair already started elsewhere (``start``/``stop`` leave it alone)."""
        self.referral = referral
        self.name = "ldap-syncrepl-referral" if referral else "ldap-syncrepl"
        self._own = cluster is None
        self.cluster = cluster or LdapReplicaCluster(write_url=not referral)
        writes = (
            "writes follow the consumer's referral to the provider"
            if referral
            else "write_url = the provider"
        )
        self.description = (
            "OpenLDAP provider and a read-only consumer (syncrepl refreshAndPersist, syncprov "
            "with a session log), each in a namespace of its own on a private network; url = "
            f"consumer, provider (reads from the first not taken out); {writes}"
        )

    def __repr__(self) -> str:
        return f"<LdapSyncCluster {self.name} {self.cluster!r}>"

    @property
    def settings(self) -> dict[str, str]:
        """The driver settings of a run, without the bind password (the results page)."""
        shown = {k: v for k, v in self._section().items() if k != "pass"}
        return shown

    def _section(self) -> dict[str, str]:
        out = self.cluster.settings(**_timeouts())
        if self.referral:
            out.pop("write_url", None)
        else:
            out["write_url"] = self.cluster.node("provider").url()
        return out

    def start(self) -> None:
        if self._own:
            self.cluster.start()

    def stop(self) -> None:
        if self._own:
            self.cluster.stop()

    def nodes(self) -> list[str]:
        return self.cluster.nodes()

    def mappings(self) -> Mappings:
        table = self.cluster.fresh_table(f"fm{next(_tables)}")
        return (
            {"peers": f'ldap,"{self.cluster.table_base}",{table}'},
            {"ldap": {self.cluster.table_base: self._section()}},
        )

    def replicas(self, mappings: dict[str, str], drivers: dict[str, Any]) -> dict[str, Mappings]:
        """The run's table on each node alone (its URL only), once the consumer caught up."""
        self.settle()
        section = drivers["ldap"][self.cluster.table_base]
        out: dict[str, Mappings] = {}
        for name in self.nodes():
            alone = {k: v for k, v in section.items() if k != "write_url"}
            alone["url"] = self.cluster.node(name).url()
            out[name] = (dict(mappings), {"ldap": {self.cluster.table_base: alone}})
        return out

    def settle(self) -> None:
        """Wait until the consumer holds everything the provider holds."""
        self.cluster.wait_replicated()

    @contextlib.contextmanager
    def fault(self, kind: str, node: str) -> Iterator[None]:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        if node not in self.nodes():
            raise ValueError(f"no node {node!r} in {self.name}: {', '.join(self.nodes())}")
        with self.cluster.fault(kind, node):
            yield
