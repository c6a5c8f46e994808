"""A section listing several servers (``dbhost = a, b, c``): one pool per node, one node used.

Meant for a MariaDB Galera cluster, where every node holds every row and takes writes, and
for the read section of a classic primary/replica pair listing the replicas. Calls go to the
first *healthy* node in the order listed, reads and writes alike, so one node takes the
writes of this process (Galera's advice against certification conflicts) and reads see this
process's writes without ``wsrep_sync_wait``.

A node is taken out when a new connection to it fails (the call moves on to the next node at
once: nothing was sent) or when a call on it fails as a backend failure (lost connection, no
answer within ``query_timeout``, a Galera node outside the primary component); such a call
itself fails as it would on a single server, unless the core's rules run it again (a read
after a lost connection, any statement the node refused). A node taken out is probed in the
background, 0.25 s after its failure and then at doubling intervals up to 2 s: a new
connection and ``SHOW GLOBAL STATUS`` must show a Galera node ``Synced`` and ready (or a
server without Galera answering). Calls never wait for a node being probed; when it passes,
calls go back to it if it comes first. When every node is out, a call fails at once with
``BackendError`` naming each node's failure.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Sequence

import sqlalchemy

from ara_realtime import BackendError
from ara_realtime.sql.pool import PoolExhausted, PoolStatus
from ara_realtime.sql.sqla.pool import Conn, Pool

__all__ = ["Node", "NodePool"]

log = logging.getLogger("ara_mysql")

_now = time.monotonic

#: Seconds from a node's failure to its first probe, and the most between two probes.
FIRST_PROBE, MAX_PROBE_INTERVAL = 0.25, 2.0
#: What a probe asks: is Galera on (MariaDB built with it shows its status variables even
#: when it is off; MySQL has neither), and then its readiness and state.
_WSREP_ON_SQL = "SHOW GLOBAL VARIABLES LIKE 'wsrep_on'"
_HEALTH_SQL = (
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state', "
    "'wsrep_local_state_comment')"
)
_SYNCED = "4"


class Node:
    """One server of a section: its pool and whether calls may use it."""

    def __init__(self, address: str, pool: Pool) -> None:
        self.address = address
        self.pool = pool
        self.up = True
        #: Why it was taken out (no values, no password), and since when.
        self.reason: str | None = None
        self.down_since = 0.0
        self.failures = 0

    def __repr__(self) -> str:
        return f"<Node {self.address} {'up' if self.up else 'down'}>"


class NodePool:
    """Connections of one section listing several nodes (the ``ConnectionPool`` protocol)."""

    def __init__(self, label: str, nodes: Sequence[Node], timeout: float) -> None:
        if len(nodes) < 2:
            raise ValueError("a NodePool needs at least two nodes")
        self.label = label
        self.nodes = list(nodes)
        self.timeout = timeout
        self._owner: dict[int, Node] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.watches = _Watches(self)

    def __repr__(self) -> str:
        return f"<NodePool {self.label} {self.nodes}>"

    @property
    def engine(self) -> sqlalchemy.Engine:
        """An engine of the section (every node has the same dialect and DB-API)."""
        return self.nodes[0].pool.engine

    # -- the ConnectionPool protocol ----------------------------------------------------

    def acquire(self) -> Conn:
        """A connection to the first healthy node; nodes that cannot be reached are taken out."""
        failed: list[str] = []
        for node in self.nodes:
            if not node.up:
                continue
            try:
                conn = node.pool.acquire()
            except PoolExhausted:  # the node is fine, only busy
                raise
            except BackendError as exc:
                why = str(exc).removeprefix(f"{node.pool.label}: ")  # said once, by the caller
                self.take_out(node, why)
                failed.append(f"{node.address}: {why}")
                continue
            self._owner[id(conn)] = node
            return conn
        raise self._none_left(failed)

    def owner(self, conn: object) -> Node | None:
        """The node a checked-out connection belongs to."""
        return self._owner.get(id(conn))

    def release(self, conn: Conn) -> None:
        node = self._owner.pop(id(conn), None)
        if node is not None:
            node.pool.release(conn)

    def discard(self, conn: Conn) -> None:
        """Throw a broken connection away and take its node out (a call failed on it)."""
        node = self._owner.pop(id(conn), None)
        if node is not None:
            node.pool.discard(conn)
            self.take_out(node, "a call on it failed")

    def invalidate_idle(self) -> None:
        for node in self.nodes:
            node.pool.invalidate_idle()

    def close(self) -> None:
        self._closed.set()
        for node in self.nodes:
            node.pool.close()

    def status(self) -> PoolStatus:
        """Every node's connections together."""
        parts = [node.pool.status() for node in self.nodes]
        return PoolStatus(
            in_use=sum(p.in_use for p in parts),
            idle=sum(p.idle for p in parts),
            limit=sum(p.limit for p in parts),
        )

    # -- what SQLAlchemyConnection uses besides -----------------------------------------

    def connect(self) -> sqlalchemy.Connection:
        """A SQLAlchemy connection to the first healthy node (reflection, DDL)."""
        failed: list[str] = []
        for node in self.nodes:
            if not node.up:
                continue
            try:
                return node.pool.connect()
            except sqlalchemy.exc.TimeoutError:
                raise node.pool.timeout_error() from None
            except sqlalchemy.exc.DBAPIError as exc:
                reason = " ".join(str(exc.orig).split()) or type(exc).__name__
                self.take_out(node, f"cannot connect: {reason}")
                failed.append(f"{node.address}: cannot connect: {reason}")
        raise self._none_left(failed)

    def timeout_error(self) -> BackendError:
        return self.nodes[0].pool.timeout_error()

    # -- node health ------------------------------------------------------------------

    def take_out(self, node: Node, reason: str) -> None:
        """Calls stop using ``node``; it is probed until it is healthy again."""
        with self._lock:
            if not node.up or self._closed.is_set():
                return
            node.up = False
            node.reason = reason
            node.down_since = _now()
            node.failures += 1
        node.pool.invalidate_idle()
        nxt = next((n.address for n in self.nodes if n.up), None)
        log.warning(
            "%s: node %s taken out (%s); %s",
            self.label,
            node.address,
            reason,
            f"calls go to {nxt}" if nxt else "no node left",
        )
        threading.Thread(
            target=self._probe_until_healthy, args=(node,), daemon=True, name="ara-mysql-probe"
        ).start()

    def _probe_until_healthy(self, node: Node) -> None:
        wait = FIRST_PROBE
        while not self._closed.wait(wait):
            problem = self.probe(node)
            if problem is None:
                with self._lock:
                    node.up = True
                    node.reason = None
                log.info(
                    "%s: node %s is back after %.1f s",
                    self.label,
                    node.address,
                    _now() - node.down_since,
                )
                return
            node.reason = problem
            wait = min(wait * 2, MAX_PROBE_INTERVAL)

    def probe(self, node: Node) -> str | None:
        """Why ``node`` cannot take calls now, or ``None`` if it can."""
        try:
            conn = node.pool.acquire()
        except BackendError as exc:
            return str(exc)
        watch = conn.watch
        watch.arm()
        try:
            status: dict[str, str] = {}
            conn.cursor.execute(_WSREP_ON_SQL)
            if any(str(v).upper() == "ON" for _, v in conn.cursor.fetchall()):
                conn.cursor.execute(_HEALTH_SQL)
                status = {str(k): str(v) for k, v in conn.cursor.fetchall()}
        except Exception as exc:
            watch.disarm()
            node.pool.discard(conn)
            return "probe failed: " + (" ".join(str(exc).split()) or type(exc).__name__)
        if watch.disarm():
            node.pool.discard(conn)
            return "probe got no answer within query_timeout"
        node.pool.release(conn)
        if not status:
            return None  # not a Galera node: it answers, that is enough
        if status.get("wsrep_ready") != "ON" or status.get("wsrep_local_state") != _SYNCED:
            state = status.get("wsrep_local_state_comment", "?")
            return f"Galera node not ready (wsrep_ready={status.get('wsrep_ready')}, {state})"
        return None

    def _none_left(self, failed: list[str]) -> BackendError:
        with self._lock:
            out = [f"{n.address}: {n.reason}" for n in self.nodes if not n.up]
        # an entry is "address: why"; an address holds ":" (host:port) but never ": "
        seen = {f.partition(": ")[0] for f in failed}
        detail = "; ".join(failed + [o for o in out if o.partition(": ")[0] not in seen])
        return BackendError(f"{self.label}: no node can take calls ({detail})")

    def states(self) -> list[tuple[str, bool, str | None, PoolStatus]]:
        """``(address, up, reason, pool)`` of every node, in order (``realtime status``)."""
        return [(n.address, n.up, n.reason, n.pool.status()) for n in self.nodes]


class _Watches:
    """``pool.watches.bounded(connection)`` for a connection of whichever node made it."""

    def __init__(self, pool: NodePool) -> None:
        self._pool = pool

    @contextlib.contextmanager
    def bounded(self, connection: sqlalchemy.Connection) -> Iterator[None]:
        for node in self._pool.nodes:
            if node.pool.engine is connection.engine:
                with node.pool.watches.bounded(connection):
                    yield
                return
        raise AssertionError("a connection of no node of this pool")  # pragma: no cover
