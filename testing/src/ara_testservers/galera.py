"""A throwaway three-node MariaDB Galera cluster on a private network of this host.

Each node is a ``mariadbd`` with ``wsrep_on`` and Debian's ``galera-4`` provider, in a network
namespace of its own on a private bridge (:class:`~ara_testservers.lan.Lan`): it listens on
its own address with the standard ports (3306 for clients, 4567 group communication, 4568
IST, 4444 rsync SST), as on separate hosts, and cutting it off cuts its clients *and* its
peers. The first node bootstraps the cluster (``--wsrep-new-cluster``); the others join it by
a state snapshot transfer (``wsrep_sst_method=rsync``). The nodes run as the ``mysql`` user:
rsync's SST daemon, started by root, would drop to ``nobody`` and fail to write the data
directory.

A node stopped by SIGKILL is restarted as Debian's ``galera_recovery`` does: ``mariadbd
--wsrep-recover`` reads the last committed position from InnoDB, which is then given as
``--wsrep-start-position``, so the node catches up by an incremental transfer (IST) from a
peer's cache instead of a full copy.

Failure detection is tightened for a test run (``evs.suspect_timeout`` and friends, see
:data:`PROVIDER_OPTIONS`): a node that stops answering is evicted after about 2 s instead of
Galera's default 5 s to 15 s.

:class:`GaleraCluster` is a fault-matrix cluster: ``start``, ``stop``, ``nodes``,
``mappings`` (family ``peers`` in ``mysql`` with every node listed in one section), and
``fault(kind, node)`` for ``kill9``, ``restart``, ``stall`` and ``netcut``.
"""

from __future__ import annotations

import contextlib
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

from .lan import Lan
from .servers import DATABASE, PASSWORD, USER, MariaDBServer, ServerError, _run

__all__ = ["PROVIDER", "PROVIDER_OPTIONS", "GaleraCluster", "GaleraNode"]

#: Debian's Galera 4 provider (package ``galera-4``).
PROVIDER = Path("/usr/lib/galera/libgalera_smm.so")
PACKAGES = ("galera-4", "rsync", "mariadb-server", "mariadb-client")

#: Group communication tuned for a loopback test: a silent node is suspected after 1.5 s and
#: evicted soon after (defaults: 5 s and 15 s); the cache is small.
PROVIDER_OPTIONS = (
    "gcache.size=64M",
    "evs.keepalive_period=PT0.5S",
    "evs.suspect_timeout=PT1.5S",
    "evs.inactive_check_period=PT0.5S",
    "evs.inactive_timeout=PT3S",
    "evs.install_timeout=PT3S",
    "gmcast.peer_timeout=PT3S",
)
#: Fault kinds :meth:`GaleraCluster.fault` knows.
FAULTS = ("kill9", "restart", "stall", "netcut")
#: The table the cluster prepares for family ``peers``.
PEERS_DDL = (
    "CREATE TABLE {table} (id INT AUTO_INCREMENT PRIMARY KEY, "
    "name VARCHAR(80) NOT NULL, host VARCHAR(80), port VARCHAR(10), "
    "regseconds VARCHAR(20), UNIQUE KEY (name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
)
_STATE_SQL = (
    "SHOW GLOBAL STATUS WHERE Variable_name IN "
    "('wsrep_local_state_comment', 'wsrep_cluster_size', 'wsrep_cluster_conf_id')"
)
_RECOVERED = re.compile(r"WSREP: Recovered position: ([0-9a-f-]{36}:-?\d+)")


class GaleraNode(MariaDBServer):
    """One Galera node in member ``index`` of ``lan``, listening on that member's address."""

    kind = "galera"

    def __init__(self, lan: Lan, index: int, peers: list[str], base: Path) -> None:
        base.mkdir(parents=True, exist_ok=True)
        super().__init__(base)
        self.lan = lan
        self.index = index
        self.name = f"node{index + 1}"
        self.host = lan.member_ip(index)
        self.port = 3306
        self.peers = peers
        self.data = base / "data"
        self.tmp = base / "tmp"
        self.sock = base / "mysqld.sock"
        self.start_position: str | None = None

    def __repr__(self) -> str:
        return f"<GaleraNode {self.name} {self.host}:{self.port} pid={self.pid}>"

    @classmethod
    def available(cls) -> bool:
        return PROVIDER.exists() and shutil.which("rsync") is not None and super().available()

    @classmethod
    def ensure_installed(cls) -> None:
        if not cls.available():
            from .servers import _apt_install  # noqa: PLC0415

            _apt_install(PACKAGES)
            if not cls.available():
                raise ServerError("galera: binaries still missing after apt-get install")

    def _args(self) -> list[str]:
        binary = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
        return [
            binary,
            "--no-defaults",
            f"--datadir={self.data}",
            f"--tmpdir={self.tmp}",
            f"--socket={self.sock}",
            f"--port={self.port}",
            f"--bind-address={self.host}",
            f"--pid-file={self.base / 'mysqld.pid'}",
            "--user=mysql",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--innodb-flush-log-at-trx-commit=2",
            "--innodb-buffer-pool-size=32M",
            "--innodb-log-file-size=16M",
            "--max-connections=300",
            "--binlog-format=ROW",
            "--default-storage-engine=InnoDB",
            "--innodb-autoinc-lock-mode=2",
            "--wsrep-on=ON",
            f"--wsrep-provider={PROVIDER}",
            "--wsrep-cluster-name=ara-test",
            f"--wsrep-cluster-address=gcomm://{','.join(self.peers)}",
            f"--wsrep-node-address={self.host}",
            f"--wsrep-node-name={self.name}",
            f"--wsrep-provider-options={';'.join(PROVIDER_OPTIONS)}",
            "--wsrep-sst-method=rsync",
        ]

    def prepare(self, *, initialise: bool) -> None:
        """Make the directories (owned by ``mysql``); the first node gets system tables."""
        for path in (self.data, self.tmp):
            path.mkdir(parents=True, exist_ok=True)
        for path in (self.base, self.data, self.tmp):
            shutil.chown(path, "mysql", "mysql")
        if initialise:
            _run(
                [
                    "mariadb-install-db",
                    "--no-defaults",
                    f"--datadir={self.data}",
                    f"--tmpdir={self.tmp}",
                    "--user=mysql",
                    "--auth-root-authentication-method=socket",
                    "--skip-test-db",
                ],
                "mariadb-install-db",
            )

    def start(self, *, bootstrap: bool = False) -> None:
        self.bootstrap = bootstrap
        self._launch()

    def _launch(self) -> None:
        args = self._args()
        if getattr(self, "bootstrap", False):
            args.append("--wsrep-new-cluster")
            self.bootstrap = False  # a restart joins the others
        if self.start_position is not None:
            args.append(f"--wsrep-start-position={self.start_position}")
            self.start_position = None
        log = (self.base / "mariadb.err").open("ab")
        proc = subprocess.Popen(
            self.lan.command(self.index, args),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._proc = proc
        self.pid = proc.pid

    def recover_position(self) -> None:
        """After a crash: the last committed position, for an incremental transfer on start."""
        out = self.base / "recover.err"
        out.unlink(missing_ok=True)
        proc = subprocess.run(
            self.lan.command(self.index, [*self._args(), "--wsrep-recover", f"--log-error={out}"]),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        text = out.read_text(errors="replace") if out.exists() else proc.stderr
        found = _RECOVERED.findall(text)
        if proc.returncode != 0 or not found:
            raise ServerError(f"{self.name}: wsrep recovery failed: {text.strip()[-800:]}")
        self.start_position = found[-1]

    def status(self) -> dict[str, str]:
        """The node's state, view size and view number (``wsrep_local_state_comment``,
        ``wsrep_cluster_size``, ``wsrep_cluster_conf_id``); empty if it does not answer."""
        if not self._alive():
            return {}
        cmd = ["mariadb", "--no-defaults", "-S", str(self.sock), "-u", "root", "-N", "-B"]
        try:  # a stopped node accepts on its socket and never answers
            proc = subprocess.run(
                [*cmd, "-e", _STATE_SQL], capture_output=True, text=True, timeout=2, check=False
            )
        except subprocess.TimeoutExpired:
            return {}
        if proc.returncode != 0:
            return {}
        return dict(line.split("\t", 1) for line in proc.stdout.splitlines() if "\t" in line)

    def state(self) -> str | None:
        """``Synced``, ``Joined``, ``Donor/Desynced``, ``Initialized`` (outside the primary
        component)...; ``None`` if the node does not answer."""
        return self.status().get("wsrep_local_state_comment")

    def wait_synced(self, timeout: float = 90.0) -> None:
        """Wait until the node has joined and caught up (``Synced``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._alive():
                raise ServerError(f"{self.name} exited: {self.log_tail()}")
            if self.state() == "Synced":
                return
            time.sleep(0.1)
        raise ServerError(f"{self.name} not synced within {timeout:.0f} s: {self.log_tail()}")

    def log_tail(self, size: int = 1500) -> str:
        path = self.base / "mariadb.err"
        text = path.read_text(errors="replace") if path.exists() else ""
        return text[-size:].strip()

    def url(self, driver: str = "mysqldb", database: str | None = None) -> str:
        return (
            f"mysql+{driver}://{USER}:{PASSWORD}@{self.host}:{self.port}/"
            f"{database or self.database}?charset=utf8mb4"
        )

    def settings(self, database: str | None = None) -> dict[str, str]:
        return {**super().settings(database), "dbhost": self.host}


class GaleraCluster:
    """Three Galera nodes, each in its own namespace on a private network of this host."""

    name = "galera"
    driver = "mysql"
    #: Galera certifies every commit on all nodes before it is acknowledged.
    synchronous = True

    def __init__(self, size: int = 3, *, settings: Mapping[str, str] | None = None) -> None:
        self.size = size
        self.base = Path(tempfile.mkdtemp(prefix="ara-galera-"))
        self.base.chmod(0o755)
        self.extra_settings = dict(settings or {})
        self.lan: Lan | None = None
        self._nodes: list[GaleraNode] = []
        self.table = "peers"

    def __repr__(self) -> str:
        return f"<GaleraCluster {[n.host for n in self._nodes]}>"

    def __enter__(self) -> GaleraCluster:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Build the network, bootstrap the first node, join the others, make user and table."""
        GaleraNode.ensure_installed()
        try:
            pwd.getpwnam("mysql")
        except KeyError:
            raise ServerError(
                "galera: no 'mysql' user (the mariadb-server package makes it)"
            ) from None
        try:
            self.lan = Lan(self.size)
            peers = [self.lan.member_ip(i) for i in range(self.size)]
            self._nodes = [
                GaleraNode(self.lan, i, peers, self.base / f"node{i + 1}") for i in range(self.size)
            ]
            first, *others = self._nodes
            first.prepare(initialise=True)
            first.start(bootstrap=True)
            first.wait_synced()
            first.sql(
                f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4; "
                f"CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'; "
                f"GRANT ALL ON *.* TO '{USER}'@'%' WITH GRANT OPTION; "
                + PEERS_DDL.format(table=f"{DATABASE}.{self.table}")
            )
            for node in others:  # one at a time: each joiner takes a donor out for its SST
                node.prepare(initialise=False)
                node.start()
                node.wait_synced()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every node, remove the network and the directories."""
        for node in self._nodes:
            with contextlib.suppress(Exception):
                node.stop()
        if self.lan is not None:
            self.lan.close()
            self.lan = None
        shutil.rmtree(self.base, ignore_errors=True)

    # -- what the fault matrix uses ----------------------------------------------------

    def nodes(self) -> list[str]:
        return [n.name for n in self._nodes]

    def node(self, name: str) -> GaleraNode:
        for node in self._nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node {name!r} in {self.nodes()}")

    def wait_whole(self, timeout: float = 90.0) -> None:
        """Wait until every node is ``Synced`` in one and the same view of all of them (a node
        resumed after a stall still shows its old view for a moment: that is not enough)."""
        deadline = time.monotonic() + timeout
        seen: list[dict[str, str]] = []
        while time.monotonic() < deadline:
            seen = [n.status() for n in self._nodes]
            views = {(s.get("wsrep_cluster_conf_id"), s.get("wsrep_cluster_size")) for s in seen}
            synced = all(s.get("wsrep_local_state_comment") == "Synced" for s in seen)
            if synced and len(views) == 1 and views.pop()[1] == str(self.size):
                return
            time.sleep(0.1)
        raise ServerError(f"the cluster is not whole within {timeout:.0f} s: {seen}")

    @property
    def members(self) -> list[GaleraNode]:
        return list(self._nodes)

    def hosts(self) -> str:
        """Every node's address, as ``dbhost`` lists them."""
        return ", ".join(n.host for n in self._nodes)

    def settings(self, **extra: str) -> dict[str, str]:
        """``res_config_mysql.conf`` settings of one section listing every node."""
        return {
            "dbhost": self.hosts(),
            "dbport": "3306",
            "dbname": DATABASE,
            "dbuser": USER,
            "dbpass": PASSWORD,
            **self.extra_settings,
            **extra,
        }

    def fresh_table(self, name: str) -> str:
        """Create table ``name`` (the shape of :data:`PEERS_DDL`) and return its name."""
        self._nodes[0].sql(
            f"DROP TABLE IF EXISTS {name}; " + PEERS_DDL.format(table=name), DATABASE
        )
        return name

    def mappings(self) -> tuple[dict[str, str], dict[str, dict[str, dict[str, str]]]]:
        """Family ``peers`` on the cluster's table, one ``mysql`` section naming every node."""
        return {"peers": f"mysql,galera,{self.table}"}, {"mysql": {"galera": self.settings()}}

    def rows(self, node: str | None = None, table: str | None = None) -> list[tuple[str, str]]:
        """``(name, host)`` of every row of ``table`` (default: the cluster's) as ``node``
        (default: the first that answers) holds it, read on its socket after every commit
        the cluster made so far is applied there (``wsrep_sync_wait``)."""
        target = self.node(node) if node else next(n for n in self._nodes if n.state())
        out = target.sql(
            f"SET SESSION wsrep_sync_wait = 1; SELECT name, COALESCE(host, '') "
            f"FROM {table or self.table} ORDER BY name",
            DATABASE,
        )
        rows = [line.split("\t") for line in out.splitlines() if line]
        return [(r[0], r[1] if len(r) > 1 else "") for r in rows]

    @contextlib.contextmanager
    def fault(self, kind: str, node: str) -> Iterator[None]:
        """``node`` fails for the block in the way ``kind`` says; afterwards it is back and
        synced with the others (the block returns once it has rejoined).

        * ``kill9``: SIGKILL; restarted after recovering its position (IST).
        * ``restart``: a clean shutdown (SIGTERM); started again.
        * ``stall``: every process of the node stopped (SIGSTOP), resumed (SIGCONT).
        * ``netcut``: its switch port down (clients and peers alike), then up again.
        """
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULTS)}")
        target = self.node(node)
        assert self.lan is not None
        if kind == "kill9":
            target.stop(signal.SIGKILL)
            try:
                yield
            finally:
                target.recover_position()
                target._launch()
        elif kind == "restart":
            target.stop()
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
        self.wait_whole()
