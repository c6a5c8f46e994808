"""ara-mysql on a real three-node MariaDB Galera cluster (ara_testservers.galera).

The cluster runs on a private network of namespaces on this host, one node per namespace, so
a node can be cut off from clients and peers alike. Shown here:

* every node holds every acknowledged write; a node with ``wsrep_sync_wait = 1`` reads a
  write made on another node at once;
* certification conflicts between nodes happen (with the server's own retry off, a call
  fails with error 1213) and are run again by the driver (``conflict_retries``); two nodes
  storing one name at once: one store wins, the other is told it is a duplicate
  (``QueryError``), never a ``BackendError`` and never two rows;
* the status names each node and why one is out.

A section listing every node (``dbhost = a, b, c``) under a read/write workload, through each
fault of the node it uses (``kill9``, ``restart``, ``stall``, ``netcut``; no acknowledged write
lost on any node, none applied twice, calls back within a bound) is the ``galera`` row of the
fault matrix (tests/deployments/test_fault_matrix.py).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator

import pytest

from ara_mysql.nodes import NodePool
from ara_realtime import BackendError, QueryError, Realtime
from ara_testservers.faults import require_netns
from ara_testservers.galera import GaleraCluster
from ara_testservers.servers import ServerError

#: query_timeout and connect_timeout of the tests' sections (seconds).
QUERY_TIMEOUT, CONNECT_TIMEOUT = 2, 2


@pytest.fixture(scope="module")
def galera() -> Iterator[GaleraCluster]:
    require_netns("the Galera tests")
    cluster = GaleraCluster(
        settings={"query_timeout": str(QUERY_TIMEOUT), "connect_timeout": str(CONNECT_TIMEOUT)}
    )
    try:
        cluster.start()
    except ServerError as exc:
        pytest.fail(f"cannot start the Galera cluster: {exc}", pytrace=False)
    yield cluster
    cluster.stop()


def _rt(galera: GaleraCluster, table: str, **sections: dict[str, str]) -> Realtime:
    """Family ``peers`` on ``table``; one mysql section per keyword (the first is mapped)."""
    first = next(iter(sections))
    return Realtime(
        {"peers": f"mysql,{first},{table}"},
        {"mysql": {name: galera.settings(**extra) for name, extra in sections.items()}},
    )


def _node(galera: GaleraCluster, index: int, **extra: str) -> dict[str, str]:
    return {"dbhost": galera.members[index].host, **extra}


def test_every_node_holds_every_write_and_a_sync_wait_reads_it_at_once(
    galera: GaleraCluster,
) -> None:
    table = galera.fresh_table("replicated")
    writer = _rt(galera, table, n1=_node(galera, 0))
    reader = _rt(galera, table, n3=_node(galera, 2, wsrep_sync_wait="1"))
    try:
        for i in range(40):
            assert writer.store("peers", {"name": f"p{i}", "host": "h"}) == 1
            assert (reader.load("peers", name=f"p{i}") or {}).get("host") == "h", i
            assert writer.update("peers", "name", f"p{i}", {"host": "x"}) == 1
            assert reader.load("peers", name=f"p{i}")["host"] == "x", i  # type: ignore[index]
        for node in galera.nodes():
            rows = galera.rows(node, table)
            assert [r[0] for r in rows] == sorted(f"p{i}" for i in range(40)), node
    finally:
        writer.close()
        reader.close()


@pytest.fixture
def no_server_retry(galera: GaleraCluster) -> Iterator[None]:
    """Galera's own retry of a conflicting autocommit statement off, so conflicts reach us."""
    for node in galera.members:
        node.sql("SET GLOBAL wsrep_retry_autocommit = 0")
    yield
    for node in galera.members:
        node.sql("SET GLOBAL wsrep_retry_autocommit = 1")


def _hammer(
    rts: list[Realtime], seconds: float, *, stop_on_error: bool, pause: float = 0.0
) -> list[BaseException]:
    """Every ``Realtime`` updates the same row from its own thread, as fast as it can or
    with a random pause of up to ``pause`` seconds after each update."""
    errors: list[BaseException] = []
    stop = time.monotonic() + seconds

    def work(n: int, rt: Realtime) -> None:
        i = 0
        while time.monotonic() < stop and not (stop_on_error and errors):
            try:
                assert rt.update("peers", "name", "hot", {"host": f"{n}-{i}"}) == 1
            except BackendError as exc:
                errors.append(exc)
            i += 1
            time.sleep(random.uniform(0, pause))

    threads = [threading.Thread(target=work, args=(n, rt)) for n, rt in enumerate(rts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.usefixtures("no_server_retry")
def test_certification_conflicts_are_run_again(
    galera: GaleraCluster, caplog: pytest.LogCaptureFixture
) -> None:
    table = galera.fresh_table("conflicts")
    once = [_rt(galera, table, n=_node(galera, i, conflict_retries="0")) for i in (0, 1)]
    try:
        once[0].store("peers", {"name": "hot", "host": "start"})
        errors = _hammer(once, 20.0, stop_on_error=True)
        assert errors, "no certification conflict in 20 s of updates of one row on two nodes"
        assert "(error 1213)" in str(errors[0]) and "1 attempt)" in str(errors[0]), errors[0]
    finally:
        for rt in once:
            rt.close()
    again = [_rt(galera, table, n=_node(galera, i, conflict_retries="20")) for i in (0, 1)]
    try:
        with caplog.at_level(logging.INFO, logger="ara_realtime.sql.base"):
            # as fast as it can, one node's updates could keep losing to the other's: a row
            # hot enough to need more than a few retries is a design problem of its own
            assert _hammer(again, 3.0, stop_on_error=False, pause=0.004) == []
        retried = [r for r in caplog.records if "running the statement again" in r.message]
        assert retried, "no conflict in 3 s: the retries were not exercised"
        assert "Deadlock" in retried[0].message
        final = {node: galera.rows(node, table) for node in galera.nodes()}
        assert len({tuple(rows) for rows in final.values()}) == 1, final  # one value everywhere
    finally:
        for rt in again:
            rt.close()


@pytest.mark.usefixtures("no_server_retry")
def test_two_nodes_storing_one_name_at_once(galera: GaleraCluster) -> None:
    """One store wins; the other is rolled back by certification, run again, and finds the
    name taken: a ``QueryError`` (duplicate), never a ``BackendError``, never two rows."""
    table = galera.fresh_table("races")
    rts = [_rt(galera, table, n=_node(galera, i, conflict_retries="20")) for i in (0, 1)]
    outcomes: dict[int, list[str]] = {0: [], 1: []}
    names = [f"race{i}" for i in range(60)]
    barrier = threading.Barrier(2)

    def work(n: int) -> None:
        for name in names:
            barrier.wait(10)
            try:
                rts[n].store("peers", {"name": name, "host": str(n)})
                outcomes[n].append("stored")
            except QueryError as exc:
                assert "Duplicate entry" in str(exc), exc
                outcomes[n].append("duplicate")
            except BackendError as exc:
                outcomes[n].append(f"backend: {exc}")

    threads = [threading.Thread(target=work, args=(n,)) for n in (0, 1)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        pairs = list(zip(outcomes[0], outcomes[1], strict=True))
        assert all(sorted(p) == ["duplicate", "stored"] for p in pairs), pairs
        rows = galera.rows("node3", table)
        assert sorted(r[0] for r in rows) == sorted(names)
        winners = {r[0]: r[1] for r in rows}
        for name, (a, _) in zip(names, pairs, strict=True):
            assert winners[name] == ("0" if a == "stored" else "1")
    finally:
        for rt in rts:
            rt.close()


def test_status_names_each_node_and_why_one_is_out(galera: GaleraCluster) -> None:
    table = galera.fresh_table("status")
    rt = _rt(galera, table, cluster={})
    try:
        rt.store("peers", {"name": "a"})
        (status,) = rt.status()
        assert status.state == "up"
        assert [k.split()[1] for k in status.pools] == [n.host + ":3306" for n in galera.members]
        conn = rt._backends[("mysql", "cluster")].connection
        pool = conn.reader
        assert isinstance(pool, NodePool)
        with galera.fault("restart", "node2"):
            pool.take_out(pool.nodes[1], "taken out by the test")
            (status,) = rt.status()
            assert f"nodes out: {galera.members[1].host}:3306:" in (status.detail or "")
            assert (rt.load("peers", name="a") or {}).get("name") == "a"
        deadline = time.monotonic() + 10
        while not pool.nodes[1].up:  # the probe puts it back once it is synced
            assert time.monotonic() < deadline, pool.nodes[1].reason
            time.sleep(0.1)
    finally:
        rt.close()
