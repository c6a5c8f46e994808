"""A PostgreSQL primary and a streaming standby on loopback, and what a failover manager does.

:class:`PgCluster` starts node ``pg1`` as the primary (``initdb``), makes ``pg2`` its hot standby
with ``pg_basebackup`` (streaming replication over the primary's Unix socket). Each node runs
in a network namespace of its own (:class:`~ara_testservers.faults.Netns`) when namespaces are
available, so the clients' path to one node can be cut while replication goes on. Clients get
libpq's host list of both nodes (:meth:`PgCluster.settings`).

Replication is synchronous (``synchronous_standby_names = '*'``, ``synchronous_commit =
remote_apply``: a commit returns once the standby has applied it, so a read there sees it) or
asynchronous (``synchronous_commit = on``, no synchronous standby). ``wal_log_hints`` and
``full_page_writes`` are on so that a failed primary can be rewound (``pg_rewind``) and rejoin.
A standby retries a lost stream every second (``wal_retrieve_retry_interval``, 5 s by default):
after the primary restarts, synchronous commits wait for the standby to come back.

What a failover manager (Patroni, repmgr) does is done here at once, by the test:

* :meth:`PgCluster.failover`: the standby is promoted; with synchronous replication it is
  allowed to commit without a standby until one rejoins (Patroni's default non-strict
  synchronous mode: otherwise every write would wait for the failed node);
* :meth:`PgCluster.rejoin`: the old primary is rewound onto the new primary's timeline with
  ``pg_rewind`` and started as its standby; synchronous replication is switched back on.

Each node keeps its port and socket directory for life (given on ``postgres``'s command line,
so they survive ``pg_rewind`` copying the other node's configuration files). As for every
throwaway server here, ``fsync`` is off: a killed process loses nothing (the kernel keeps the
pages), a power cut would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Iterator

from .faultmatrix import CONNECT_TIMEOUT, FAULT_KINDS, QUERY_TIMEOUT, NotApplicable
from .faults import Netns, netns_unavailable
from .servers import PostgresServer, ServerError, _run, _wait_port

__all__ = ["LagProbe", "PgCluster", "PgNode"]

#: Settings every node runs with (appended after the throwaway server's defaults).
REPLICATION_CONF = """
wal_level = replica
max_wal_senders = 10
wal_keep_size = '256MB'
hot_standby = on
hot_standby_feedback = on
wal_log_hints = on
full_page_writes = on
wal_receiver_status_interval = 1s
wal_retrieve_retry_interval = 1s
"""


class PgNode(PostgresServer):
    """One node: a primary made by ``initdb`` or a standby made by ``pg_basebackup``."""

    def __init__(self, name: str, synchronous: bool) -> None:
        super().__init__()
        self.name = name
        self.synchronous = synchronous
        self.role = "primary"

    def __repr__(self) -> str:
        return f"<PgNode {self.name} {self.role} {self.host}:{self.port} pid={self.pid}>"

    def extra_conf(self) -> str:
        commit = "remote_apply" if self.synchronous else "on"
        return REPLICATION_CONF + f"synchronous_commit = {commit}\n"

    def _launch(self) -> None:
        # the node's own port and socket directory on the command line: they beat the
        # configuration files, which pg_basebackup and pg_rewind copy from the other node
        options = (
            f"-c port={self.port} -c unix_socket_directories={self.run} "
            f"-c listen_addresses={self.host}"
        )
        _run(
            self.launch_prefix
            + self._as_postgres(
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.base / "postgres.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ),
            f"pg_ctl start ({self.name})",
        )
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        _wait_port(self.port, 30, f"postgres {self.name}", self._alive, self.host)

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string reaching this node as the superuser over its socket."""
        return f"host={self.run} port={self.port} user=postgres dbname={dbname}"

    def start_standby(self, primary: PgNode) -> None:
        """Copy the primary with ``pg_basebackup`` and start streaming from it."""
        self.ensure_installed()
        bindir = self.bindir()
        assert bindir is not None
        self.bin = bindir
        self.data = self.base / "data"
        self.run = self.base / "run"
        self.run.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
            shutil.chown(self.run, "postgres", "postgres")
        _run(
            self._as_postgres(
                str(bindir / "pg_basebackup"),
                "-d",
                f"{primary.conninfo()} application_name={self.name}",
                "-D",
                str(self.data),
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
                "-R",
            ),
            f"pg_basebackup ({self.name})",
        )
        self.role = "standby"
        self._launch()

    def promote(self) -> None:
        _run(
            self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "promote"),
            f"pg_ctl promote ({self.name})",
        )
        self.role = "primary"

    def rejoin(self, primary: PgNode) -> None:
        """Rewind this stopped former primary onto ``primary``'s timeline; start as its standby."""
        # pg_rewind reads the new timeline from the source's control file, which a promoted
        # server updates only at its next checkpoint
        primary.psql("CHECKPOINT")
        _run(
            self._as_postgres(
                str(self.bin / "pg_rewind"),
                f"--target-pgdata={self.data}",
                f"--source-server={primary.conninfo()} application_name={self.name}",
                "--write-recovery-conf",
                "--no-sync",
            ),
            f"pg_rewind ({self.name})",
        )
        self.role = "standby"
        self._launch()

    def query(self, sql: str, timeout: float = 30.0) -> str:
        """One value (or rows as text) from the node, as the superuser over its socket."""
        return self.psql(sql, timeout=timeout).strip()

    def in_recovery(self) -> bool:
        return self.query("SELECT pg_is_in_recovery()") == "t"


class LagProbe:
    """How far the standby is behind, sampled on the primary (``pg_stat_replication``) every
    ``interval`` seconds from a thread: WAL bytes not yet replayed, and ``replay_lag`` (the
    time between a commit's flush on the primary and the standby's report of applying it)."""

    def __init__(self, primary: PgNode, interval: float = 0.05) -> None:
        self.primary = primary
        self.interval = interval
        #: (bytes behind, replay lag in seconds) per sample
        self.samples: list[tuple[int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-lag-probe", daemon=True)

    def __enter__(self) -> LagProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        import psycopg  # noqa: PLC0415  (a test dependency of the workspace, not of this package)

        try:
            conn = psycopg.connect(self.primary.conninfo(), autocommit=True, connect_timeout=5)
        except psycopg.Error:
            return
        with conn:
            while not self._stop.wait(self.interval):
                try:
                    row = conn.execute(
                        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint, "
                        "COALESCE(EXTRACT(epoch FROM replay_lag), 0)::float8 "
                        "FROM pg_stat_replication"
                    ).fetchone()
                except psycopg.Error:
                    return  # the primary went away
                if row is not None and row[0] is not None:
                    self.samples.append((int(row[0]), float(row[1])))

    @property
    def max_bytes(self) -> int:
        return max((b for b, _ in self.samples), default=0)

    @property
    def max_lag_s(self) -> float:
        return max((lag for _, lag in self.samples), default=0.0)


class PgCluster:
    """``pg1`` (primary) and ``pg2`` (standby), synchronous or not; a :class:`Cluster`."""

    driver = "pgsql"

    def __init__(
        self,
        *,
        synchronous: bool = True,
        read_from: str = "primary",
        name: str | None = None,
        paths: bool = True,  # each node in a network namespace (when available)
    ) -> None:
        self.synchronous = synchronous
        self.with_paths = paths
        self.read_from = read_from
        self.name = name or ("pgsql-sync" if synchronous else "pgsql-async")
        replication = (
            "synchronous (synchronous_standby_names = '*', synchronous_commit = remote_apply)"
            if synchronous
            else "asynchronous"
        )
        self.description = (
            f"PostgreSQL primary + streaming standby (pg_basebackup), {replication}; "
            f"hostname = both nodes, read_from = {read_from}; kill9 of the primary promotes "
            "the standby at once and the old primary rejoins by pg_rewind"
        )
        self.nodes_by_name: dict[str, PgNode] = {}
        self.nets: dict[str, Netns] = {}
        self._tables = 0

    def __repr__(self) -> str:
        return f"<PgCluster {self.name} {list(self.nodes_by_name.values())}>"

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        for name in ("pg1", "pg2"):
            node = self.nodes_by_name[name] = PgNode(name, self.synchronous)
            if self.with_paths and netns_unavailable() is None:
                self.nets[name] = Netns()
                node.in_netns(self.nets[name])
        first, second = self.nodes_by_name["pg1"], self.nodes_by_name["pg2"]
        first.start()
        second.start_standby(first)
        self._sync(first, on=True)
        self.wait_streaming()

    def stop(self) -> None:
        try:
            for node in self.nodes_by_name.values():
                node.close()
        finally:
            for net in self.nets.values():
                net.close()
            self.nets.clear()

    def __enter__(self) -> PgCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- roles -----------------------------------------------------------------------------

    @property
    def primary(self) -> PgNode:
        return next(n for n in self.nodes_by_name.values() if n.role == "primary")

    @property
    def standby(self) -> PgNode:
        return next(n for n in self.nodes_by_name.values() if n.role == "standby")

    def nodes(self) -> list[str]:
        """The primary first."""
        return [self.primary.name, self.standby.name]

    def _sync(self, primary: PgNode, *, on: bool) -> None:
        """Commits on ``primary`` wait for a standby (``on``, in a synchronous cluster) or not."""
        names = "*" if on and self.synchronous else ""
        primary.psql(
            f"ALTER SYSTEM SET synchronous_standby_names = '{names}'",
            "SELECT pg_reload_conf()",
            timeout=30,
        )

    def wait_streaming(self, timeout: float = 30.0) -> None:
        """Until the standby streams from the primary (as the synchronous one, if so)."""
        want = "sync" if self.synchronous else "async"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self.primary.query(
                "SELECT state || ' ' || sync_state FROM pg_stat_replication"
            ).split("\n")
            if f"streaming {want}" in states:
                return
            time.sleep(0.05)
        standby = self.standby
        log = (standby.base / "postgres.log").read_text(errors="replace")[-1500:]
        raise ServerError(
            f"{standby.name} is not streaming from {self.primary.name} after {timeout:g} s; "
            f"its log ends: {log}"
        )

    def wait_replayed(self, timeout: float = 30.0) -> None:
        """Until the standby has applied everything the primary has written so far."""
        lsn = self.primary.query("SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            behind = self.standby.query(
                f"SELECT pg_wal_lsn_diff('{lsn}', pg_last_wal_replay_lsn()) > 0"
            )
            if behind == "f":
                return
            time.sleep(0.02)
        raise ServerError(f"{self.standby.name} did not replay up to {lsn} within {timeout} s")

    def failover(self) -> None:
        """Crash the primary (SIGKILL, every process) and promote the standby."""
        old, new = self.primary, self.standby
        old.kill()
        new.promote()
        self._sync(new, on=False)  # no standby to wait for until the old primary rejoins
        old.role = "down"

    def rejoin(self) -> None:
        """The failed node (stopped) rejoins as the standby of the current primary."""
        old = next(n for n in self.nodes_by_name.values() if n.role == "down")
        old.rejoin(self.primary)
        self._sync(self.primary, on=True)
        self.wait_streaming()

    # -- what clients use ------------------------------------------------------------------

    def settings(self, *, order: list[PgNode] | None = None, **extra: str) -> dict[str, str]:
        """``res_pgsql.conf`` settings reaching the nodes in ``order`` (default: ``pg1``,
        ``pg2``, whatever their roles: libpq finds the primary)."""
        nodes = order if order is not None else list(self.nodes_by_name.values())
        first = nodes[0]
        return {
            "hostname": ",".join(n.host for n in nodes),
            "port": ",".join(str(n.port) for n in nodes),
            "dbname": first.database,
            "user": first.user,
            "password": first.password,
            "read_from": self.read_from,
            "query_timeout": f"{QUERY_TIMEOUT:g}",
            "connect_timeout": str(CONNECT_TIMEOUT),
            **extra,
        }

    def new_table(self) -> str:
        """A new, empty table ``fm<N>`` (name, host) made on the primary and replayed."""
        self._tables += 1
        table = f"fm{self._tables}"
        primary = self.primary
        primary.psql(
            f"CREATE TABLE {table} (name VARCHAR(40), host VARCHAR(40))",
            database=primary.database,
            user=primary.user,
            timeout=30,
        )
        self.wait_replayed()
        return table

    def mappings(self) -> tuple[dict[str, str], dict[str, dict[str, dict[str, str]]]]:
        table = self.new_table()
        return {"peers": f"pgsql,cluster,{table}"}, {"pgsql": {"cluster": self.settings()}}

    # -- faults ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def fault(self, kind: str, node: str) -> Iterator[None]:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        target = self.nodes_by_name[node]
        if kind == "kill9":
            if target.role == "primary":
                self.failover()
                yield
                self.rejoin()
            else:
                target.kill()
                yield
                target._launch()
                self.wait_streaming()
        elif kind == "restart":
            target.stop()
            yield
            target._launch()
            self.wait_streaming()
        elif kind == "stall":
            with target.frozen():
                yield
        else:
            net = self.nets.get(node)
            if net is None:
                why = netns_unavailable() or "the cluster was made without network namespaces"
                raise NotApplicable(f"no network path to cut: {why}")
            with net.down():
                yield
