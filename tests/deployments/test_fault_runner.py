"""The fault matrix's runner checks what a cluster's replicas hold (Cluster.replicas), on
SQLite files: a node holding every write passes, a node missing them counts as losses, and a
lagging node is read only after the cluster's settle() (replication caught up)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ara_testservers.faultclusters import SqliteCluster
from ara_testservers.faultmatrix import run_fault

Mappings = tuple[dict[str, str], dict[str, Any]]


class _Replicated(SqliteCluster):
    """The SQLite file, plus 'nodes' that are other files: the same one, or an empty copy of
    the run's table (a replica that received nothing)."""

    def __init__(self, empty_replica: bool) -> None:
        super().__init__("sqlite3")
        self.empty_replica = empty_replica
        self.replica: Path | None = None

    @contextlib.contextmanager
    def fault(self, kind: str, node: str) -> Iterator[None]:
        yield  # nothing happens: every write is acknowledged

    def replicas(self, mappings: dict[str, str], drivers: dict[str, Any]) -> dict[str, Mappings]:
        section = drivers["sqlite3"]["fm"]
        if not self.empty_replica:
            return {"same": (mappings, drivers)}
        table = mappings["peers"].rsplit(",", 1)[1]
        assert self.dir is not None
        other = Path(self.dir) / "replica.sqlite3"
        if not other.exists():
            with contextlib.closing(sqlite3.connect(other)) as db:
                db.execute(f"CREATE TABLE {table} (name TEXT, host TEXT)")
                db.commit()
        return {"behind": (mappings, {"sqlite3": {"fm": {**section, "dbfile": str(other)}}})}


class _Settling(_Replicated):
    """A replica that holds the writes once settle() has copied them (replication caught up)."""

    def __init__(self) -> None:
        super().__init__(empty_replica=True)
        self.settled = 0

    def settle(self) -> None:
        assert self.dir is not None
        other = Path(self.dir) / "replica.sqlite3"
        with contextlib.closing(sqlite3.connect(self.path)) as db:
            db.execute("VACUUM INTO ?", (str(other),))
        self.settled += 1


def _run(cluster: _Replicated) -> tuple[int, int, list[str]]:
    cluster.start()
    try:
        result = run_fault(cluster, "restart", hold=0.3, tail=0.1)
    finally:
        cluster.stop()
    assert result.status == "ok" and result.calls > 0
    return result.acked_writes, result.lost_writes, result.examples


def test_a_replica_holding_every_write_loses_nothing() -> None:
    acked, lost, examples = _run(_Replicated(empty_replica=False))
    assert acked > 0 and lost == 0, examples


def test_a_replica_missing_the_writes_counts_them_lost() -> None:
    acked, lost, examples = _run(_Replicated(empty_replica=True))
    assert acked > 0 and lost > 0
    assert examples and examples[0].startswith("on behind: "), examples


def test_replicas_are_read_once_the_cluster_settled() -> None:
    cluster = _Settling()
    acked, lost, examples = _run(cluster)
    assert cluster.settled == 1
    assert acked > 0 and lost == 0, examples
