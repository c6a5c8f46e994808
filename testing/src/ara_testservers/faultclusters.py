"""Every single-server driver as a fault-matrix cluster of one node (see :mod:`.faultmatrix`).

Each server (PostgreSQL, MariaDB, slapd) runs inside a network namespace of its own
(:class:`~ara_testservers.faults.Netns`): clients reach it over a veth pair, as over a routed
network, so ``netcut`` drops their packets while the server sees their real address and port
(what ODBC's ``query_timeout`` needs to find the socket to cut). The faults:

* ``kill9``: SIGKILL of every process of the server, then a start (crash recovery);
* ``restart``: the server's own clean stop, then a start;
* ``stall``: SIGSTOP of every process, then SIGCONT;
* ``netcut``: the namespace's end of the veth pair down, then up.

The ``galera`` cluster is :class:`~ara_testservers.galera.GaleraCluster` (three nodes on a
private network of namespaces, one ``dbhost`` listing them all) with a fresh table per run and
every node read back after each fault (:class:`GaleraMatrix`).

SQLite has no server: the node is a *peer*, another process using the same file (another
Asterisk on the host), which takes the write lock in the middle of a transaction and then
crashes (``kill9``) or stops (``stall``) while holding it; ``restart`` and ``netcut`` do not
apply to an embedded database.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .faultmatrix import (
    CONNECT_TIMEOUT,
    FAULT_KINDS,
    QUERY_TIMEOUT,
    RECOVERY_BOUND,
    NotApplicable,
)
from .faults import Netns, netns_unavailable
from .galera import GaleraCluster
from .odbc import OdbcFiles
from .servers import DATABASE, MariaDBServer, PostgresServer, Server, ServerError
from .slapd import SlapdServer

__all__ = [
    "GaleraMatrix",
    "LdapCluster",
    "MysqlCluster",
    "OdbcCluster",
    "PgsqlCluster",
    "SqliteCluster",
]

Mappings = tuple[dict[str, str], dict[str, dict[str, dict[str, str]]]]
_tables = itertools.count(1)


class DurablePostgres(PostgresServer):
    """A throwaway PostgreSQL whose commits return once their WAL is written out
    (``synchronous_commit = on``; the throwaway default, off, acknowledges a commit before
    that, and a killed server then loses the last ones: a setting, not a fault)."""

    def extra_conf(self) -> str:
        return "synchronous_commit = on\n"


def _timeouts() -> dict[str, str]:
    return {"query_timeout": f"{QUERY_TIMEOUT:g}", "connect_timeout": str(CONNECT_TIMEOUT)}


class _OneServer:
    """One server in a namespace of its own; subclasses make the server, tables and settings."""

    name = ""
    driver = ""
    synchronous = True
    description = ""

    def __init__(self) -> None:
        self.server: Server | None = None
        self.net: Netns | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.server!r}>"

    def make_server(self) -> Server:
        raise NotImplementedError

    def start(self) -> None:
        reason = netns_unavailable()
        if reason is not None:
            raise ServerError(f"{self.name}: the fault matrix needs network namespaces: {reason}")
        self.net = Netns()
        self.server = self.make_server()
        self.server.in_netns(self.net)
        self.server.start()

    def stop(self) -> None:
        try:
            if self.server is not None:
                self.server.close()
        finally:
            if self.net is not None:
                self.net.close()

    def nodes(self) -> list[str]:
        return [self.server.kind if self.server is not None else "server"]

    @property
    def running(self) -> Server:
        if self.server is None:
            raise ServerError(f"{self.name} is not started")
        return self.server

    @contextlib.contextmanager
    def fault(self, kind: str, node: str) -> Iterator[None]:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        server = self.running
        if kind == "kill9":
            server.kill()
            yield
            server._launch()
        elif kind == "restart":
            server.stop()
            yield
            server._launch()
        elif kind == "stall":
            with server.frozen():
                yield
        else:
            assert self.net is not None
            with self.net.down():
                yield


class PgsqlCluster(_OneServer):
    """The ``pgsql`` driver on one PostgreSQL server."""

    name = "pgsql"
    driver = "pgsql"
    description = "one PostgreSQL server (psycopg 3), synchronous_commit = on"

    def make_server(self) -> Server:
        return DurablePostgres()

    def table(self) -> str:
        server = self.running
        assert isinstance(server, PostgresServer)
        table = f"fm{next(_tables)}"
        server.psql(
            f"CREATE TABLE {table} (name VARCHAR(40), host VARCHAR(40))",
            database=server.database,
            user=server.user,
        )
        return table

    def mappings(self) -> Mappings:
        server = self.running
        assert isinstance(server, PostgresServer)
        settings = {**server.settings(), **_timeouts()}
        return {"peers": f"pgsql,fm,{self.table()}"}, {"pgsql": {"fm": settings}}


class MysqlCluster(_OneServer):
    """The ``mysql`` driver on one MariaDB server, through one DB-API."""

    driver = "mysql"

    def __init__(self, dbapi: str) -> None:
        super().__init__()
        self.dbapi = dbapi
        self.name = f"mysql-{dbapi}"
        self.description = f"one MariaDB server ({dbapi})"

    def make_server(self) -> Server:
        return MariaDBServer()

    def table(self) -> str:
        server = self.running
        assert isinstance(server, MariaDBServer)
        table = f"fm{next(_tables)}"
        server.sql(
            f"CREATE TABLE {server.database}.{table} (name VARCHAR(40), host VARCHAR(40)) "
            "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        )
        return table

    def mappings(self) -> Mappings:
        server = self.running
        assert isinstance(server, MariaDBServer)
        settings = {**server.settings(), "dbapi": self.dbapi, **_timeouts()}
        return {"peers": f"mysql,fm,{self.table()}"}, {"mysql": {"fm": settings}}


class GaleraMatrix(GaleraCluster):
    """The ``mysql`` driver on a three-node Galera cluster, one section listing every node
    (``dbhost = a, b, c``): the first is used while it is healthy. A run's table has no unique
    key on ``name`` (a write applied twice would show); after each fault every node is read
    alone, with ``wsrep_sync_wait = 1``, and must hold every acknowledged write."""

    #: After a partition heals (a short cut, a stall near the eviction timeout) the nodes
    #: may install a new view, unavailable to clients (1047) until it is primary: up to
    #: ``evs.install_timeout`` (3 s in the test cluster) after the fault ended; a node pool's
    #: probe then takes up to its longest interval (2 s, ara_mysql.nodes) to take it back.
    recovery_bound = RECOVERY_BOUND + 3.0 + 2.0
    description = (
        "three MariaDB Galera nodes (galera-4, rsync SST, IST after a crash), each in a "
        "namespace of its own on a private bridge; one mysql section with dbhost = all three "
        "(the first healthy one used); every node read back after each fault; recovery bound "
        f"{recovery_bound:g} s: after a partition heals the cluster may be non-primary for up "
        "to evs.install_timeout = 3 s, and a node taken out is probed every 2 s at most"
    )

    def __init__(self) -> None:
        super().__init__(settings=_timeouts())

    def new_table(self) -> str:
        table = f"fm{next(_tables)}"
        self.members[0].sql(
            f"CREATE TABLE {table} (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT "
            "NULL, host VARCHAR(40), KEY (name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
            DATABASE,
        )
        return table

    def mappings(self) -> Mappings:
        return {"peers": f"mysql,galera,{self.new_table()}"}, {"mysql": {"galera": self.settings()}}

    def replicas(self, mappings: dict[str, str], drivers: dict[str, Any]) -> dict[str, Mappings]:
        """The run's table on each node alone, reading after every commit the cluster made
        (``wsrep_sync_wait = 1``)."""
        section = drivers["mysql"]["galera"]
        return {
            node.name: (
                mappings,
                {"mysql": {"galera": {**section, "dbhost": node.host, "wsrep_sync_wait": "1"}}},
            )
            for node in self.members
        }


class OdbcCluster(_OneServer):
    """The ``odbc`` driver on one PostgreSQL or MariaDB server, through its ODBC driver."""

    driver = "odbc"

    def __init__(self, dbms: str, files: OdbcFiles) -> None:
        super().__init__()
        if dbms not in ("postgresql", "mariadb"):
            raise ValueError(f"no ODBC server cluster for {dbms!r}")
        self.dbms = dbms
        self.files = files
        self.name = f"odbc-{dbms}"
        odbc = "psqlODBC" if dbms == "postgresql" else "MariaDB Connector/ODBC"
        self.description = (
            f"one {'PostgreSQL' if dbms == 'postgresql' else 'MariaDB'} server ({odbc})"
        )
        self.dsn = ""

    def make_server(self) -> Server:
        return DurablePostgres() if self.dbms == "postgresql" else MariaDBServer()

    def start(self) -> None:
        super().start()
        server = self.running
        self.dsn = f"fm_{self.dbms}_{server.port}"
        if isinstance(server, PostgresServer):
            self.files.postgres(self.dsn, server)
        else:
            assert isinstance(server, MariaDBServer)
            self.files.mariadb(self.dsn, server)

    def table(self) -> str:
        server = self.running
        table = f"fm{next(_tables)}"
        if isinstance(server, PostgresServer):
            server.psql(
                f"CREATE TABLE {table} (name VARCHAR(40), host VARCHAR(40))",
                database=server.database,
                user=server.user,
            )
        else:
            assert isinstance(server, MariaDBServer)
            server.sql(
                f"CREATE TABLE {server.database}.{table} (name VARCHAR(40), host VARCHAR(40)) "
                "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            )
        return table

    def mappings(self) -> Mappings:
        settings = {"dsn": self.dsn, "max_connections": "4", **_timeouts()}
        return {"peers": f"odbc,fm,{self.table()}"}, {"odbc": {"fm": settings}}


class LdapCluster(_OneServer):
    """The ``ldap`` driver on one slapd (the shipped schema; a table is an ``araTable``)."""

    name = "ldap"
    driver = "ldap"
    description = "one OpenLDAP slapd (mdb)"

    def make_server(self) -> Server:
        from ara_ldap import schema_path  # noqa: PLC0415  (only where ara-ldap is installed)

        return SlapdServer(ldif_schemas=[schema_path("ldif")])

    def table(self) -> str:
        import ldap3  # noqa: PLC0415

        server = self.running
        assert isinstance(server, SlapdServer)
        table = f"fm{next(_tables)}"
        conn = ldap3.Connection(
            server.url(), server.root_dn, server.password, auto_bind=True, receive_timeout=10
        )
        try:
            conn.add(  # type: ignore[no-untyped-call]
                f"ou={table},{server.suffix}",
                ["organizationalUnit", "araTable"],
                {
                    "ou": table,
                    "araColumn": ["name araExact1", "host araText1"],
                    "araObjectClass": "araRow",
                },
            )
            if conn.result["result"] != 0:
                raise ServerError(f"cannot add table {table}: {conn.result['description']}")
        finally:
            conn.unbind()
        return table

    def mappings(self) -> Mappings:
        server = self.running
        assert isinstance(server, SlapdServer)
        settings = {
            **server.settings(),
            "timeout": f"{QUERY_TIMEOUT:g}",
            "connect_timeout": str(CONNECT_TIMEOUT),
            "bind_timeout": str(CONNECT_TIMEOUT),
        }
        return (
            {"peers": f'ldap,"{server.suffix}",{self.table()}'},
            {"ldap": {server.suffix: settings}},
        )


#: The peer: opens the file, takes the write lock in a transaction it never ends, says so.
_PEER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("INSERT INTO peer_log VALUES (?)", (time.time(),))
print("locked", flush=True)
time.sleep(600)
"""


class SqliteCluster:
    """A SQLite file shared with a peer process, through ``sqlite3`` or the SQLite3 ODBC
    driver; the faults happen to the peer while it holds the write lock."""

    synchronous = True

    def __init__(self, driver: str = "sqlite3", files: OdbcFiles | None = None) -> None:
        if driver not in ("sqlite3", "odbc"):
            raise ValueError(f"no SQLite cluster for driver {driver!r}")
        if driver == "odbc" and files is None:
            raise ValueError("the odbc SQLite cluster needs the ODBC files")
        self.driver = driver
        self.files = files
        self.name = "sqlite3" if driver == "sqlite3" else "odbc-sqlite"
        self.description = (
            "a SQLite file (WAL) shared with a peer process that takes the write lock; "
            + ("the sqlite3 driver, busy_timeout = 1000" if driver == "sqlite3" else "")
            + ("the SQLite3 ODBC driver, Timeout = 1000 ms" if driver == "odbc" else "")
        )
        self.dir: Path | None = None
        self.dsn = ""

    def __repr__(self) -> str:
        return f"<SqliteCluster {self.name} {self.dir}>"

    @property
    def path(self) -> Path:
        if self.dir is None:
            raise ServerError(f"{self.name} is not started")
        return self.dir / "realtime.sqlite3"

    def start(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ara-sqlite-"))
        with contextlib.closing(sqlite3.connect(self.path)) as db:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("CREATE TABLE peer_log (at REAL)")
            db.commit()
        if self.files is not None:
            self.dsn = f"fm_sqlite_{self.dir.name}"
            self.files.add(self.dsn, "SQLite3", Database=str(self.path), Timeout="1000")

    def stop(self) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def nodes(self) -> list[str]:
        return ["peer"]

    def mappings(self) -> Mappings:
        table = f"fm{next(_tables)}"
        with contextlib.closing(sqlite3.connect(self.path)) as db:
            db.execute(f"CREATE TABLE {table} (name TEXT, host TEXT)")
            db.commit()
        if self.driver == "sqlite3":
            settings = {"dbfile": str(self.path), "busy_timeout": "1000"}
            return {"peers": f"sqlite3,fm,{table}"}, {"sqlite3": {"fm": settings}}
        settings = {"dsn": self.dsn, "max_connections": "4", **_timeouts()}
        return {"peers": f"odbc,fm,{table}"}, {"odbc": {"fm": settings}}

    def _peer(self) -> subprocess.Popen[str]:
        peer = subprocess.Popen(
            [sys.executable, "-c", _PEER, str(self.path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert peer.stdout is not None
        if peer.stdout.readline().strip() != "locked":
            peer.kill()
            _, err = peer.communicate(timeout=10)
            raise ServerError(f"the SQLite peer did not take the write lock: {err.strip()}")
        return peer

    def _peer_roundtrip(self) -> None:
        """A new peer: a committed write proves the file sound and the lock free."""
        with contextlib.closing(sqlite3.connect(self.path, timeout=10)) as db:
            db.execute("INSERT INTO peer_log VALUES (0)")
            db.commit()

    @contextlib.contextmanager
    def fault(self, kind: str, node: str) -> Iterator[None]:
        if kind == "kill9":
            peer = self._peer()
            peer.kill()  # SIGKILL in the middle of its transaction
            peer.communicate(timeout=10)
            yield
            self._peer_roundtrip()
        elif kind == "stall":
            peer = self._peer()
            peer.send_signal(signal.SIGSTOP)  # stalls while holding the write lock
            try:
                yield
            finally:
                peer.send_signal(signal.SIGCONT)
                peer.terminate()  # its transaction is rolled back
                peer.communicate(timeout=10)
        elif kind == "restart":
            raise NotApplicable("SQLite is embedded: there is no server to restart")
        elif kind == "netcut":
            raise NotApplicable("SQLite is embedded: there is no network path to cut")
        else:
            raise ValueError(f"unknown fault kind {kind!r}")
