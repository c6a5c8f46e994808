"""Failover under load on a real primary and streaming standby (ara_testservers.pgcluster).

A workload (ara_testservers.faultmatrix.Workload: stores of new rows, updates with increasing
values, loads, from two threads) runs through one ``Realtime`` while the primary crashes and
the standby is promoted; the same ``Realtime`` finds the new primary (libpq's host list with
``target_session_attrs = read-write``) without being reopened. Then everything is read back:

* synchronous replication (``remote_apply``): no acknowledged write is lost, none is applied
  twice, and writes succeed again within a bound of the promotion;
* asynchronous replication: the writes lost are measured, and they are the last ones before
  the crash (the window is the standby's lag, milliseconds on loopback);
* the standby down when the primary crashes: synchronous replication acknowledged nothing
  meanwhile (no write is lost); asynchronous replication loses every write acknowledged
  since the standby went down: the window is as long as the standby is behind.

The figures are printed (``pytest -s``) and quoted in docs/deployments.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ara_realtime import Realtime
from ara_testservers.faultmatrix import CONNECT_TIMEOUT, QUERY_TIMEOUT, Check, Workload
from ara_testservers.pgcluster import LagProbe, PgCluster

#: Writes succeed again this soon after the promotion: a new connection (each host tried, the
#: old primary refusing), a call on a connection that died with it, slack for a loaded machine.
RESUME_BOUND = 2 * CONNECT_TIMEOUT + QUERY_TIMEOUT + 3.0


@pytest.fixture(scope="module", params=["sync", "async"])
def cluster(request: pytest.FixtureRequest) -> Iterator[PgCluster]:
    made = PgCluster(synchronous=request.param == "sync", paths=False)
    made.start()
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture
def work(cluster: PgCluster) -> Iterator[Workload]:
    mappings, drivers = cluster.mappings()
    rt = Realtime(mappings, drivers)
    workload = Workload(rt, "w-", threads=2, rate=25)
    workload.seed()
    try:
        yield workload
    finally:
        rt.close()


def _run(work: Workload, seconds: float) -> None:
    work.start()
    time.sleep(seconds)


def _report(what: str, cluster: PgCluster, work: Workload, found: Check) -> str:
    calls = work.calls()
    failed = [c for c in calls if not c.ok]
    line = (
        f"{what} ({cluster.name}): {len(calls)} calls, {len(failed)} failed "
        f"({sum(1 for c in failed if c.write)} writes), {found.acked} writes acknowledged, "
        f"{found.lost} lost, {found.duplicated} applied twice, {found.unknown} failed "
        f"({found.unknown_applied} of them applied)"
    )
    print(line)
    return line


def test_a_crashed_primary_is_replaced_by_the_promoted_standby(
    cluster: PgCluster, work: Workload
) -> None:
    work.start()
    with LagProbe(cluster.primary) as lag:
        time.sleep(1.0)
    crashed = time.monotonic()
    try:
        cluster.failover()  # SIGKILL of every process of the primary, then promote
        promoted = time.monotonic()
        time.sleep(1.5)
    finally:
        work.stop()
    found = work.check()
    line = _report("primary crash", cluster, work, found)
    calls = work.calls()
    assert not any(c.misclassified for c in calls), [c.error for c in calls if not c.ok]
    assert found.duplicated == 0, found.examples
    resumed = min(c.end for c in calls if c.write and c.ok and c.start >= promoted)
    print(f"  writes succeeded again {(resumed - promoted) * 1000:.0f} ms after the promotion")
    assert resumed - promoted < RESUME_BOUND, line
    assert all(c.ok for c in calls if c.start >= resumed), line  # and stay up
    if cluster.synchronous:
        assert found.lost == 0, found.examples
    else:
        window = crashed - min(found.lost_at, default=crashed)
        print(
            f"  {found.lost} acknowledged writes lost, the oldest acknowledged "
            f"{window * 1000:.0f} ms before the crash; the standby's replay lag under this "
            f"load: at most {lag.max_lag_s * 1000:.1f} ms, {lag.max_bytes} bytes of WAL "
            f"({len(lag.samples)} samples)"
        )
        assert lag.samples, "the lag was not measured"
        assert window < 1.0, line  # the standby's lag on loopback: milliseconds
    cluster.rejoin()


def test_a_primary_crashing_while_the_standby_is_down(cluster: PgCluster, work: Workload) -> None:
    primary, standby = cluster.primary, cluster.standby
    _run(work, 0.5)
    try:
        standby.kill()
        down = time.monotonic()
        time.sleep(1.5)  # writes go on without the standby
        crashed = time.monotonic()
        primary.kill()
        standby._launch()  # it has what it received before it went down
        standby.promote()
        cluster._sync(standby, on=False)
        primary.role = "down"
        time.sleep(1.0)
    finally:
        work.stop()
    found = work.check()
    line = _report("standby down, then primary crash", cluster, work, found)
    acked_meanwhile = sum(
        1 for w in work.writes(updates=False) if w.acked and down + 0.2 <= w.at < crashed
    )
    assert found.duplicated == 0, found.examples
    if cluster.synchronous:
        # no commit returned without the standby's answer: nothing to lose
        assert acked_meanwhile == 0, line
        assert found.lost == 0, found.examples
    else:
        print(f"  {acked_meanwhile} stores acknowledged while the standby was down, all lost")
        assert acked_meanwhile > 0, line
        assert found.lost_stores >= acked_meanwhile, line  # every one of them
        assert min(found.lost_at) >= down - 0.5, line  # and nothing long before
    cluster.rejoin()
