"""Several DSNs per class (``dsn => a, b``), tried in order: failover for DBMS whose ODBC
drivers have none (psqlODBC takes one server). On real servers: a DSN nobody answers, a
PostgreSQL primary and streaming standby (ara_testservers.pgcluster) through psqlODBC."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ara_odbc.config import connection_string, read_config
from ara_realtime import BackendError, ConfigError, Realtime
from ara_testservers import PostgresServer, free_port
from ara_testservers.faultmatrix import Workload
from ara_testservers.odbc import OdbcFiles
from ara_testservers.pgcluster import PgCluster, PgNode

COLUMNS = {"name": ("char", 40), "host": ("char", 40)}
_count = iter(range(10**6))


def test_a_dsn_list_and_its_connection_strings(tmp_path: Path) -> None:
    (tmp_path / "res_odbc.conf").write_text(
        "[asterisk]\ndsn => pg-a, pg-b ,pg-c\nusername => u\npassword => secret\n"
    )
    s = read_config("asterisk", {}, tmp_path)
    assert s.dsns == ("pg-a", "pg-b", "pg-c")
    assert s.label == "odbc class 'asterisk' (dsn pg-a, dsn pg-b, dsn pg-c)"
    assert connection_string(s, dsn="pg-b") == "DSN=pg-b;UID=u;PWD=secret"
    assert connection_string(s) == "DSN=pg-a;UID=u;PWD=secret"


def test_a_connection_string_is_never_split() -> None:
    s = read_config("c", {"dsn": "Driver=FreeTDS;Server=db,1433;Database=x"}, None)
    assert s.dsns == ("Driver=FreeTDS;Server=db,1433;Database=x",)


def test_an_empty_dsn_in_the_list_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "res_odbc.conf").write_text("[asterisk]\ndsn => a,,b\n")
    with pytest.raises(ConfigError, match="dsn lists an empty name") as info:
        read_config("asterisk", {}, tmp_path)
    assert info.value.line == 2


@pytest.mark.parametrize(("dsns", "twice"), [("a, a", "a"), ("a,b, c,b", "b")])
def test_a_dsn_listed_twice_names_the_line(tmp_path: Path, dsns: str, twice: str) -> None:
    (tmp_path / "res_odbc.conf").write_text(f"[asterisk]\ndsn => {dsns}\n")
    with pytest.raises(ConfigError, match=f"dsn lists '{twice}' twice") as info:
        read_config("asterisk", {}, tmp_path)
    assert info.value.line == 2


def test_a_dsn_nobody_answers_is_passed_over(
    odbc_files: OdbcFiles, pg_server: PostgresServer
) -> None:
    odbc_files.add(  # nothing listens there
        "ara_nowhere",
        "PostgreSQL Unicode",
        Servername="127.0.0.1",
        Port=str(free_port()),
        Database="ara",
        SSLmode="disable",
    )
    odbc_files.postgres("ara_pg_second", pg_server)
    rt = Realtime(
        {"peers": f"odbc,c,dsns{next(_count)}"},
        {
            "odbc": {
                "c": {
                    "dsn": "ara_nowhere, ara_pg_second",
                    "requirements": "createclose",
                    "connect_timeout": "2",
                }
            }
        },
    )
    try:
        assert rt.require("peers", COLUMNS)
        assert rt.store("peers", {"name": "a", "host": "h"}) == 1
        assert rt.load("peers", name="a") == {"name": "a", "host": "h"}
        conn = rt._backends[("odbc", "c")].connection
        assert conn.pool.current == 1
        assert conn.label == "odbc class 'c' (dsn ara_nowhere, dsn ara_pg_second)"
    finally:
        rt.close()


# -- a primary and a standby through psqlODBC ----------------------------------------------------


@pytest.fixture(scope="module")
def cluster(odbc_files: OdbcFiles) -> Iterator[PgCluster]:
    made = PgCluster(synchronous=True, paths=False)
    made.start()
    try:
        for node in made.nodes_by_name.values():
            odbc_files.postgres(f"ara_{node.name}", node)
        yield made
    finally:
        made.stop()


def _dsn(node: PgNode) -> str:
    return f"ara_{node.name}"


def _names(node: PgNode, table: str) -> list[str]:
    return node.psql(f"SELECT name FROM {table} ORDER BY name", database="ara").split()


def test_writes_leave_a_standby_listed_first(odbc_files: OdbcFiles, cluster: PgCluster) -> None:
    """The standby takes the connection (and reads), not writes: the write fails once with
    SQLSTATE 25006 (a lost connection: BackendError), the class moves to the next DSN."""
    primary, standby = cluster.primary, cluster.standby
    table = cluster.new_table()
    rt = Realtime(
        {"peers": f"odbc,c,{table}"},
        {"odbc": {"c": {"dsn": f"{_dsn(standby)}, {_dsn(primary)}", "max_connections": "2"}}},
    )
    try:
        assert rt.load("peers", name="a") is None  # served by the standby
        with pytest.raises(BackendError, match=r"read-only transaction \(SQLSTATE 25006\)"):
            rt.store("peers", {"name": "a", "host": "h"})
        assert rt.store("peers", {"name": "a", "host": "h"}) == 1
        assert rt.load("peers", name="a") == {"name": "a", "host": "h"}
        assert _names(primary, table) == ["a"]
    finally:
        rt.close()


def test_a_promoted_standby_is_found_under_load(odbc_files: OdbcFiles, cluster: PgCluster) -> None:
    """Synchronous replication, the primary crashes and the standby is promoted: the class
    reaches it through its second DSN; no acknowledged write is lost, none applied twice."""
    table = cluster.new_table()
    dsns = [_dsn(cluster.primary), _dsn(cluster.standby)]
    rt = Realtime(
        {"peers": f"odbc,c,{table}"},
        {
            "odbc": {
                "c": {
                    "dsn": ", ".join(dsns),
                    "max_connections": "4",
                    "connect_timeout": "2",
                    "query_timeout": "1",
                }
            }
        },
    )
    work = Workload(rt, "o-", threads=2, rate=20)
    try:
        work.seed()
        work.start()
        time.sleep(0.5)
        try:
            cluster.failover()
            promoted = time.monotonic()
            time.sleep(1.5)
        finally:
            work.stop()
        found = work.check()
        calls = work.calls()
        assert found.lost == 0 and found.duplicated == 0, found.examples
        assert not any(c.misclassified for c in calls), [c.error for c in calls if not c.ok]
        resumed = min(c.end for c in calls if c.write and c.ok and c.start >= promoted)
        assert resumed - promoted < 2 + 1 + 3.0  # connect_timeout + query_timeout + slack
        assert rt._backends[("odbc", "c")].connection.pool.current == 1
    finally:
        rt.close()
        cluster.rejoin()


def test_every_dsn_must_reach_the_same_kind_of_dbms(
    odbc_files: OdbcFiles, cluster: PgCluster
) -> None:
    primary = cluster.primary
    table = cluster.new_table()
    sqlite = odbc_files.sqlite("ara_other_dbms", odbc_files.directory / "other.sqlite3")
    rt = Realtime(
        {"peers": f"odbc,c,{table}"},
        {"odbc": {"c": {"dsn": f"{_dsn(primary)}, {sqlite.name}", "connect_timeout": "2"}}},
    )
    try:
        assert rt.load("peers", name="a") is None  # PostgreSQL: the statements' spelling
        with cluster.fault("restart", primary.name):  # down: the next connection needs b
            rt._backends[("odbc", "c")].connection.drop_connections()
            with pytest.raises(BackendError, match="reaches a sqlite DBMS.*same kind of DBMS"):
                rt.load("peers", name="a")
        assert rt.load("peers", name="a") is None  # the first DSN again
    finally:
        rt.close()
