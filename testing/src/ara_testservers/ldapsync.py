"""A throwaway OpenLDAP provider and a read-only consumer replicating it (syncrepl).

Both ``slapd`` run on a private network of this host (:class:`~ara_testservers.lan.Lan`),
each in a namespace of its own, listening on its own address on port 389 (and an
``ldapi://`` socket in its directory), so cutting one off cuts its clients and the
replication between them alike.

* the *provider* has the ``syncprov`` overlay (with a session log, so a consumer resuming
  with a cookie learns of deleted entries without a full present phase);
* the *consumer* replicates the whole suffix from it (``syncrepl`` in ``refreshAndPersist``
  mode, retrying every second), answers every write with a referral to the provider
  (``updateref``), and has ``syncprov`` too, so clients can follow *its* changes with a sync
  search (the ``ldap`` driver's change feed does, to invalidate a cache once the replica it
  reads has a change);
* the consumer starts empty and receives everything, its suffix entry included, from the
  provider.

:class:`LdapReplicaCluster` runs the pair (``nodes()``: ``provider``, ``consumer``) and its
faults: family ``peers`` reads from the consumer first, then the provider, and writes to the
provider (through the consumer's referral, or ``write_url``).
:class:`~ara_testservers.ldapcluster.LdapSyncCluster` adapts it to the fault matrix.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import ldap3
from ldap3.core.exceptions import LDAPException

from .lan import Lan
from .servers import ServerError
from .slapd import SlapdServer, _tool

__all__ = ["FAULTS", "LdapReplicaCluster", "ReplicaNode", "SyncprovSlapd"]

#: Fault kinds :meth:`LdapReplicaCluster.fault` knows.
FAULTS = ("kill9", "restart", "stall", "netcut")
#: The attributes family ``peers`` maps to (the ara-ldap schema's).
PEERS = {"name": "araExact1", "host": "araText1", "port": "araInteger1"}


#: ``syncprov`` on the database: clients (a consumer, the driver's change feed) can follow it.
SYNCPROV = (
    "overlay syncprov",
    # contextCSN written with every change: a provider killed with SIGKILL otherwise restarts
    # with the value of its last checkpoint, older than what it served
    "syncprov-checkpoint 1 1",
    # deleted entries are remembered, so a client resuming with a cookie is told of them
    # without a present phase (every unchanged entry's UUID)
    "syncprov-sessionlog 10000",
)


class SyncprovSlapd(SlapdServer):
    """:class:`SlapdServer` with the ``syncprov`` overlay (and ``entryCSN``/``entryUUID``
    indexed): a sync search (RFC 4533) can follow its changes."""

    def __init__(self, base: Path | None = None, **kw: Any) -> None:
        kw["indexes"] = [*kw.get("indexes", ()), "entryCSN,entryUUID eq"]
        super().__init__(base, **kw)

    def _slapd_conf(self) -> str:
        text = (
            super()
            ._slapd_conf()
            .replace("moduleload back_mdb\n", "moduleload back_mdb\nmoduleload syncprov\n")
        )
        return text + "\n".join(self._database_lines()) + "\n"

    def _database_lines(self) -> list[str]:
        return list(SYNCPROV)


class ReplicaNode(SyncprovSlapd):
    """``slapd`` in member ``index`` of ``lan``; the provider, or a consumer of ``provider``."""

    def __init__(
        self,
        lan: Lan,
        index: int,
        base: Path,
        *,
        provider: ReplicaNode | None = None,
        ldif_schemas: Sequence[Path] = (),
    ) -> None:
        base.mkdir(parents=True, exist_ok=True)
        super().__init__(base, ldif_schemas=ldif_schemas)
        self.lan = lan
        self.index = index
        self.host = lan.member_ip(index)
        self.port = 389
        self.provider = provider
        self.name = "consumer" if provider is not None else "provider"

    def __repr__(self) -> str:
        return f"<ReplicaNode {self.name} {self.url()} pid={self.pid}>"

    def _slapd_conf(self) -> str:
        # replication's own messages in slapd.log (a consumer that does not catch up says why)
        return super()._slapd_conf().replace("loglevel 0\n", "loglevel sync\n")

    def _database_lines(self) -> list[str]:
        lines = super()._database_lines()
        if self.provider is not None:
            lines[:0] = [
                f"syncrepl rid=001 provider={self.provider.url()} bindmethod=simple "
                f'binddn="{self.root_dn}" credentials={self.password} '
                f'searchbase="{self.suffix}" type=refreshAndPersist retry="1 +" '
                "timeout=3 network-timeout=2 keepalive=2:2:1",
                f"updateref {self.provider.url()}",
            ]
        return lines

    def start(self) -> None:
        self.ensure_installed()
        self._configure()
        if self.provider is not None:
            # the suffix entry made for the conversion would clash with the provider's (its
            # own entryUUID): the consumer starts empty and receives everything
            for path in self.data.glob("*.mdb"):
                path.unlink()
        self._launch()

    def _launch(self) -> None:
        urls = f"{self.url()} ldapi://{urllib.parse.quote(str(self.socket), safe='')}"
        log = (self.base / "slapd.log").open("ab")
        proc = subprocess.Popen(
            self.lan.command(
                self.index, [_tool("slapd"), "-F", str(self.config_dir), "-h", urls, "-d", "0"]
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._proc = proc
        self.pid = proc.pid
        self._wait_ready(30.0)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(0.2)
                if s.connect_ex(str(self.socket)) == 0:
                    return
            if not self._alive():
                tail = (self.base / "slapd.log").read_text(errors="replace")[-2000:]
                raise ServerError(f"slapd ({self.name}) exited during start-up: {tail.strip()}")
            time.sleep(0.02)
        raise ServerError(f"slapd ({self.name}) did not accept connections within {timeout:.0f} s")

    def url(self, driver: str = "", database: str | None = None) -> str:
        return f"ldap://{self.host}:{self.port}"

    def admin(self, timeout: int = 5) -> ldap3.Connection:
        """A connection bound as the root DN."""
        server = ldap3.Server(self.url(), get_info=ldap3.NONE, connect_timeout=timeout)
        conn = ldap3.Connection(
            server, self.root_dn, self.password, receive_timeout=timeout, raise_exceptions=False
        )
        try:
            bound = conn.bind()
        except LDAPException as exc:
            raise ServerError(f"{self.name}: cannot connect: {exc}") from None
        if not bound:
            raise ServerError(f"{self.name}: cannot bind: {conn.result}")
        return conn

    def context_csn(self) -> set[str]:
        """The suffix's ``contextCSN`` values: equal on both once the consumer caught up."""
        conn = self.admin()
        try:
            conn.search(self.suffix, "(objectClass=*)", ldap3.BASE, attributes=["contextCSN"])
            entries = conn.response or []
            for entry in entries:
                if entry.get("type") == "searchResEntry":
                    return {v.decode() for v in entry["raw_attributes"].get("contextCSN", [])}
            return set()
        finally:
            conn.unbind()


class LdapReplicaCluster:
    """An OpenLDAP provider and a syncrepl consumer, each in its own namespace."""

    name = "ldap-syncrepl"
    driver = "ldap"
    #: syncrepl is asynchronous: the provider acknowledges a write before the consumer has it.
    synchronous = False

    def __init__(
        self,
        *,
        write_url: bool = False,
        settings: dict[str, str] | None = None,
        ldif_schema: Path | None = None,
    ) -> None:
        if ldif_schema is None:  # the ara-ldap schema (araTable, araRow), shipped with it
            from ara_ldap import schema_path  # noqa: PLC0415

            ldif_schema = schema_path("ldif")
        self._schema = ldif_schema
        self.base = Path(tempfile.mkdtemp(prefix="ara-ldapsync-"))
        self.base.chmod(0o755)
        self.write_url = write_url
        self.extra_settings = dict(settings or {})
        self.lan: Lan | None = None
        self.provider: ReplicaNode | None = None
        self.consumer: ReplicaNode | None = None
        self.suffix = "dc=ara,dc=test"
        self.table_base = f"ou=replicated,{self.suffix}"

    def __repr__(self) -> str:
        return f"<LdapReplicaCluster {self.provider!r} {self.consumer!r}>"

    def __enter__(self) -> LdapReplicaCluster:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the provider, then the consumer; add the table entry and wait for it."""
        try:
            self.lan = Lan(2)
            self.provider = ReplicaNode(
                self.lan, 0, self.base / "provider", ldif_schemas=[self._schema]
            )
            self.provider.start()
            self.consumer = ReplicaNode(
                self.lan,
                1,
                self.base / "consumer",
                provider=self.provider,
                ldif_schemas=[self._schema],
            )
            self.consumer.start()
            self.fresh_table("peers")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for node in (self.consumer, self.provider):
            if node is not None:
                with contextlib.suppress(Exception):
                    node.close()
        if self.lan is not None:
            self.lan.close()
            self.lan = None
        shutil.rmtree(self.base, ignore_errors=True)

    # -- what tests and the fault matrix use ---------------------------------------------

    def nodes(self) -> list[str]:
        return ["provider", "consumer"]

    def node(self, name: str) -> ReplicaNode:
        found = {"provider": self.provider, "consumer": self.consumer}.get(name)
        if found is None:
            raise KeyError(f"no node {name!r} in {self.nodes()}")
        return found

    def fresh_table(self, name: str) -> str:
        """An ``araTable`` entry ``ou=<name>`` (family ``peers``'s columns) under the table
        base, made on the provider and waited for on the consumer; its name."""
        provider = self.node("provider")
        conn = provider.admin()
        try:
            conn.add(self.table_base, ["organizationalUnit"], {"ou": "replicated"})  # type: ignore[no-untyped-call]
            dn = f"ou={name},{self.table_base}"
            conn.delete(dn)  # type: ignore[no-untyped-call]  # a leftover of an earlier run of the same test: start afresh
            if not conn.add(  # type: ignore[no-untyped-call]
                dn,
                ["organizationalUnit", "araTable"],
                {
                    "ou": name,
                    "araColumn": [f"{c} {a}" for c, a in PEERS.items()],
                    "araObjectClass": "araRow",
                },
            ):
                raise ServerError(f"cannot add the table entry {dn}: {conn.result}")
        finally:
            conn.unbind()
        self.wait_replicated()
        return name

    def wait_replicated(self, timeout: float = 30.0) -> None:
        """Wait until the consumer holds everything the provider holds: its contextCSN is the
        provider's, or later (a provider killed between a change and its checkpoint comes
        back with the previous value)."""
        deadline = time.monotonic() + timeout
        want: set[str] = set()
        while time.monotonic() < deadline:
            try:
                want = self.node("provider").context_csn()
                have = self.node("consumer").context_csn()
            except ServerError:  # one is still starting
                time.sleep(0.05)
                continue
            if want and have and max(have) >= max(want):
                return
            time.sleep(0.05)
        consumer = self.node("consumer")
        tail = (consumer.base / "slapd.log").read_text(errors="replace")[-1500:].strip()
        raise ServerError(
            f"the consumer did not catch up within {timeout:.0f} s (provider's contextCSN "
            f"{sorted(want)}); its log ends: {tail}"
        )

    def settings(self, **extra: str) -> dict[str, str]:
        """``res_ldap.conf`` ``[_general]``: read the consumer first, then the provider."""
        consumer, provider = self.node("consumer"), self.node("provider")
        out = {
            "url": f"{consumer.url()} {provider.url()}",
            "user": provider.root_dn,
            "pass": provider.password,
        }
        if self.write_url:
            out["write_url"] = provider.url()
        return {**out, **self.extra_settings, **extra}

    def mappings(
        self, table: str = "peers"
    ) -> tuple[dict[str, str], dict[str, dict[str, dict[str, str]]]]:
        """Family ``peers`` on the table entry ``table`` (made by :meth:`fresh_table`)."""
        return (
            {"peers": f'ldap,"{self.table_base}",{table}'},
            {"ldap": {self.table_base: self.settings()}},
        )

    def rows(self, node: str = "provider", table: str = "peers") -> list[tuple[str, str]]:
        """``(name, host)`` of every row of ``table`` as ``node`` holds it."""
        conn = self.node(node).admin()
        try:
            entries = conn.extend.standard.paged_search(
                f"ou={table},{self.table_base}",
                "(objectClass=araRow)",
                ldap3.LEVEL,
                attributes=[PEERS["name"], PEERS["host"]],
                paged_size=500,
                generator=False,
            )
            out = []
            for entry in entries or []:
                if entry.get("type") != "searchResEntry":
                    continue
                raw = {k.lower(): v for k, v in entry["raw_attributes"].items()}
                names = raw.get(PEERS["name"].lower(), [b""])
                hosts = raw.get(PEERS["host"].lower(), [b""])
                out.append((names[0].decode(), hosts[0].decode()))
            return sorted(out)
        finally:
            conn.unbind()

    @contextlib.contextmanager
    def fault(self, kind: str, node: str) -> Iterator[None]:
        """``node`` fails for the block as ``kind`` says; afterwards it is back and the
        consumer has caught up with the provider."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULTS)}")
        target = self.node(node)
        assert self.lan is not None
        if kind in ("kill9", "restart"):
            target.stop(signal.SIGKILL if kind == "kill9" else None)
            try:
                yield
            finally:
                target._launch()
        elif kind == "stall":
            with target.frozen(limit=120.0):
                yield
        else:
            with self.lan.down(target.index):
                yield
        self.wait_replicated()
