"""The fault matrix (issue 13): every driver and every replicated cluster, on real engines on
loopback, under each kind of fault (ara_testservers.faultmatrix).

One test per (cluster, fault): the cluster starts once for its four faults. A cell passes when
every failed call was a BackendError, no call outlasted CALL_BOUND, calls succeeded again within
RECOVERY_BOUND of the fault's end (a cluster may set a longer bound of its own, and says why),
no write was applied twice, and, where the cluster promises
it, no acknowledged write was lost. ``scripts/fault-matrix`` runs this module alone and renders
the results page (docs/fault-matrix.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ara_testservers.faultclusters import (
    GaleraMatrix,
    LdapCluster,
    MysqlCluster,
    OdbcCluster,
    PgsqlCluster,
    SqliteCluster,
)
from ara_testservers.faultmatrix import (
    CALL_BOUND,
    FAULT_KINDS,
    Cluster,
    Result,
    read_json,
    run_fault,
)
from ara_testservers.faults import require_netns
from ara_testservers.ldapcluster import LdapSyncCluster
from ara_testservers.pgcluster import PgCluster
from ara_testservers.servers import ServerError

Factory = Callable[[pytest.FixtureRequest], Cluster]

#: Every driver (single servers: clusters of one node) and every replicated cluster.
CLUSTERS: dict[str, Factory] = {
    "sqlite3": lambda r: SqliteCluster("sqlite3"),
    "pgsql": lambda r: PgsqlCluster(),
    "mysql-mysqlclient": lambda r: MysqlCluster("mysqlclient"),
    "mysql-pymysql": lambda r: MysqlCluster("pymysql"),
    "odbc-postgresql": lambda r: OdbcCluster("postgresql", r.getfixturevalue("odbc_files")),
    "odbc-mariadb": lambda r: OdbcCluster("mariadb", r.getfixturevalue("odbc_files")),
    "odbc-sqlite": lambda r: SqliteCluster("odbc", r.getfixturevalue("odbc_files")),
    "ldap": lambda r: LdapCluster(),
    "pgsql-sync": lambda r: PgCluster(synchronous=True, read_from="prefer-standby"),
    "pgsql-async": lambda r: PgCluster(synchronous=False),
    "galera": lambda r: GaleraMatrix(),
    "ldap-syncrepl": lambda r: LdapSyncCluster(),
}

#: Faults that cannot happen to a cluster, on purpose (any other "not applicable" fails).
NOT_APPLICABLE = {
    "sqlite3": {"restart", "netcut"},
    "odbc-sqlite": {"restart", "netcut"},
}


@pytest.fixture(scope="module", params=list(CLUSTERS))
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    require_netns("the fault matrix")
    made = CLUSTERS[request.param](request)
    assert made.name == request.param
    try:
        made.start()
    except ServerError as exc:
        made.stop()
        pytest.fail(f"cannot start {request.param}: {exc}", pytrace=False)
    try:
        yield made
    finally:
        made.stop()


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_fault(cluster: Cluster, kind: str, fault_results: list[Result]) -> None:
    result = run_fault(cluster, kind)
    fault_results.append(result)
    if result.status != "ok":
        assert kind in NOT_APPLICABLE.get(cluster.name, set()), result.note
        return
    assert result.calls > 0 and result.acked_writes > 0, result
    assert result.misclassified == 0, result.errors
    assert result.duplicated_writes == 0, result.examples
    if cluster.synchronous:
        assert result.lost_writes == 0, result.examples
    assert result.longest_call_s <= CALL_BOUND, result
    assert result.recovered_after_s is not None, result.errors
    assert result.recovered_after_s <= result.recovery_bound_s, result


def test_the_published_results_cover_the_whole_matrix() -> None:
    """docs/fault-matrix.json (the site's page) holds one result per cluster and fault of this
    matrix, each meeting the bounds the tests assert: a run of part of it (``scripts/fault-matrix
    -k ...``) or a cluster added without a new run is not published as the whole."""
    doc = read_json(Path(__file__).parents[2] / "docs" / "fault-matrix.json")
    cells = {(r["cluster"], r["fault"]): r for r in doc["results"]}
    missing = [(c, k) for c in CLUSTERS for k in FAULT_KINDS if (c, k) not in cells]
    assert not missing, f"not in docs/fault-matrix.json (run scripts/fault-matrix): {missing}"
    assert len(cells) == len(doc["results"]) == len(CLUSTERS) * len(FAULT_KINDS)
    for (name, kind), r in cells.items():
        if r["status"] != "ok":
            assert kind in NOT_APPLICABLE.get(name, set()), (name, kind, r["note"])
            continue
        assert r["misclassified"] == 0 and r["duplicated_writes"] == 0, (name, kind)
        if r["synchronous"]:
            assert r["lost_writes"] == 0, (name, kind)
        assert r["longest_call_s"] <= CALL_BOUND, (name, kind)
        assert r["recovered_after_s"] is not None, (name, kind)
        assert r["recovered_after_s"] <= r["recovery_bound_s"], (name, kind)
