"""A section listing several servers (``dbhost = a, b``) on one real MariaDB: the addresses
differ (a closed port, a cuttable path through a network namespace, the server itself), so
node selection, taking a node out, probing it back and failing back are shown without a
cluster (the Galera tests show them on one: test_mysql_galera.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ara_mysql.config import read_config
from ara_mysql.driver import MySQLConnection
from ara_mysql.nodes import NodePool
from ara_realtime import BackendError, ConfigError, Realtime
from ara_realtime.sql.pool import PoolExhausted
from ara_testservers import MariaDBServer, free_port
from ara_testservers.faults import NetPath, require_netns

SETTINGS = {"dbuser": "u", "dbpass": "Secret-9", "dbname": "db"}


def test_dbhost_lists_nodes_with_their_ports() -> None:
    spec = read_config(
        "cluster", {**SETTINGS, "dbhost": "10.0.0.1, db2:3307 ,[fd00::3]:3308, [fd00::4]"}, None
    )
    assert spec.options["nodes"] == [
        ("10.0.0.1", 3306),
        ("db2", 3307),
        ("fd00::3", 3308),
        ("fd00::4", 3306),
    ]
    assert "[10.0.0.1:3306, db2:3307, fd00::3:3308, fd00::4:3306]" in spec.label
    assert "Secret-9" not in spec.label
    single = read_config("one", {**SETTINGS, "dbhost": "db1:3310"}, None)
    assert "nodes" not in single.options
    assert (single.connect_args["host"], single.connect_args["port"]) == ("db1", 3310)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a,,b", "dbhost must list servers as host or host:port"),
        ("a, b:x", "dbhost must list servers"),
        ("a:70000", "port 70000 of 'a:70000' is out of range"),
        ("a, b, a:3306", "dbhost lists 'a:3306' twice"),
        ("a, u:s3cret@b", r"dbhost: credentials \(user:password@\) are not supported"),
    ],
)
def test_a_bad_dbhost_list_names_the_line(tmp_path: Path, value: str, message: str) -> None:
    (tmp_path / "res_config_mysql.conf").write_text(f"[cluster]\ndbuser = u\ndbhost = {value}\n")
    with pytest.raises(ConfigError, match=message) as info:
        read_config("cluster", {}, tmp_path)
    assert info.value.line == 3
    assert "s3cret" not in str(info.value)


def test_a_pairs_labels_name_each_side_once(tmp_path: Path) -> None:
    (tmp_path / "res_config_mysql.conf").write_text(
        "[r]\ndbhost = a\ndbuser = u\ndbpass = Secret-9\n[w]\ndbhost = b:3307\ndbuser = u\n"
    )
    spec = read_config("r/w", {}, tmp_path)
    assert spec.write is not None
    assert spec.label == "mysql database 'r/w', reads (u@a:3306/asterisk)"
    assert spec.write.label == "mysql database 'r/w', writes (u@b:3307/asterisk)"
    assert (
        spec.whole == "mysql database 'r/w' (reads: u@a:3306/asterisk; writes: u@b:3307/asterisk)"
    )


def test_no_node_left_names_each_node_once_and_the_section_once() -> None:
    """Two nodes on one host: both are named (an address holds a ':'), the label once."""
    ports = [free_port(), free_port()]
    dbhost = ", ".join(f"127.0.0.1:{p}" for p in ports)
    rt = Realtime(
        {"peers": "mysql,c"},
        {"mysql": {"c": {**SETTINGS, "dbhost": dbhost, "connect_timeout": "1"}}},
    )
    try:
        (status,) = rt.status()  # a statement's connection: the nodes' pools are asked
        with pytest.raises(BackendError) as info:
            rt.load("peers", name="x")  # reading the table's columns first: connect()
    finally:
        rt.close()
    for text in (status.error or "", str(info.value)):
        assert text.count("mysql database 'c'") == 1, text
        assert "no node can take calls" in text, text
        for p in ports:
            assert text.count(f"127.0.0.1:{p}: ") == 1, text
        assert "Secret-9" not in text


def test_conflict_retries_and_wsrep_sync_wait_are_checked() -> None:
    spec = read_config("s", {**SETTINGS, "dbhost": "h", "wsrep_sync_wait": "1"}, None)
    assert spec.connect_args["init_command"] == "SET SESSION wsrep_sync_wait = 1"
    assert spec.options["conflict_retries"] == 3
    assert (
        read_config("s", {"conflict_retries": "0", "dbhost": "h"}, None).options["conflict_retries"]
        == 0
    )
    for key, value in (("conflict_retries", "-1"), ("conflict_retries", "x")):
        with pytest.raises(ConfigError, match="conflict_retries must be a whole number"):
            read_config("s", {key: value, "dbhost": "h"}, None)
    with pytest.raises(ConfigError, match="wsrep_sync_wait must be a whole number from 0 to 15"):
        read_config("s", {"wsrep_sync_wait": "16", "dbhost": "h"}, None)


@pytest.mark.parametrize(
    ("code", "message", "kind"),
    [
        # refused before running: nothing executed, any statement may move to another node
        (1047, "WSREP has not yet prepared node for application use", "refused"),
        (1290, "The MariaDB server is running with the --read-only option", "refused"),
        # the commit failed without saying whether the writeset reached the primary
        # component: a write must not run again (a store could add its row twice)
        (1180, 'Got error 6 "No such device or address" during COMMIT', "unknown"),
        (1180, "Error while appending streaming replication fragment", "unknown"),
        # rolled back in full: known not applied, run again
        (1213, "Deadlock found when trying to get lock; try restarting transaction", "conflict"),
    ],
)
def test_galera_errors_are_taken_by_what_is_known_of_the_outcome(
    code: int, message: str, kind: str
) -> None:
    conn = MySQLConnection("s", {**SETTINGS, "dbhost": "127.0.0.1"})
    try:
        dbapi = conn.reader.engine.dialect.loaded_dbapi
        assert conn.classify(dbapi.OperationalError(code, message)) == kind
    finally:
        conn.close()


def _pool(rt: Realtime) -> NodePool:
    conn = rt._backends[("mysql", "ara")].connection
    assert conn is not None
    pool = conn.reader
    assert isinstance(pool, NodePool)
    return pool


def _up(pool: NodePool, index: int) -> bool:
    return pool.nodes[index].up


def _table(make_rt: Callable[..., Realtime], table: str, dbhost: str, **extra: str) -> Realtime:
    rt = make_rt(
        {"peers": f"mysql,ara,{table}"}, dbhost=dbhost, requirements="createclose", **extra
    )
    assert rt.require("peers", {"name": ("char", 40), "host": ("char", 40)})
    return rt


def test_calls_skip_a_node_that_refuses_connections(
    make_rt: Callable[..., Realtime],
    sql_tables: Callable[[str], str],
    mariadb_server: MariaDBServer,
) -> None:
    dead = free_port()  # nothing listens: connection refused at once
    rt = _table(make_rt, sql_tables("nodes"), f"127.0.0.1:{dead}, 127.0.0.1:{mariadb_server.port}")
    assert rt.store("peers", {"name": "a", "host": "h"}) == 1
    assert rt.load("peers", name="a") == {"name": "a", "host": "h"}
    (status,) = rt.status()
    assert status.state == "up"
    assert f"nodes out: 127.0.0.1:{dead}: " in (status.detail or "")
    assert "Secret" not in (status.detail or "") and mariadb_server.password not in str(status)
    assert list(status.pools) == [
        f"node 127.0.0.1:{dead} (out)",
        f"node 127.0.0.1:{mariadb_server.port} (up)",
    ]


def test_with_every_node_out_a_call_fails_at_once(make_rt: Callable[..., Realtime]) -> None:
    ports = [free_port(), free_port()]
    rt = make_rt({"peers": "mysql,ara,nowhere"}, dbhost=", ".join(f"127.0.0.1:{p}" for p in ports))
    with pytest.raises(BackendError, match="no node can take calls") as info:
        rt.load("peers", name="a")  # tries both: refused at once
    for port in ports:
        assert f"127.0.0.1:{port}: " in str(info.value)
    start = time.monotonic()
    with pytest.raises(BackendError, match="no node can take calls"):
        rt.load("peers", name="a")
    assert time.monotonic() - start < 0.1  # nothing tried while both are out


def test_an_exhausted_pool_keeps_its_node(
    make_rt: Callable[..., Realtime],
    sql_tables: Callable[[str], str],
    mariadb_server: MariaDBServer,
) -> None:
    port = mariadb_server.port
    rt = _table(
        make_rt,
        sql_tables("busy"),
        f"127.0.0.1:{port}, localhost:{port}",
        pool_size="1",
        pool_overflow="0",
        pool_timeout="0.2",
        dbapi="pymysql",  # mysqlclient takes localhost for the socket
    )
    pool = _pool(rt)
    held = pool.acquire()
    try:
        with pytest.raises(PoolExhausted):
            pool.acquire()
        assert pool.nodes[0].up  # busy is not broken: no failover to the next node
    finally:
        pool.release(held)
    assert rt.load("peers", name="x") is None


def test_a_cut_node_is_taken_out_probed_and_used_again(
    make_rt: Callable[..., Realtime],
    sql_tables: Callable[[str], str],
    mariadb_server: MariaDBServer,
) -> None:
    require_netns("the network-path test")
    with NetPath(mariadb_server.port) as path:
        rt = _table(
            make_rt,
            sql_tables("cut"),
            f"{path.host}:{path.port}, 127.0.0.1:{mariadb_server.port}",
            query_timeout="1",
            connect_timeout="1",
        )
        pool = _pool(rt)
        rt.store("peers", {"name": "a", "host": "h"})
        assert pool.nodes[0].pool.status().idle == 1  # the first node took the call
        with path.down():
            start = time.monotonic()
            with pytest.raises(BackendError, match="no answer within query_timeout = 1 s"):
                rt.update("peers", "name", "a", {"host": "lost?"})  # a write: not run again
            assert time.monotonic() - start < 1.5
            assert not pool.nodes[0].up
            start = time.monotonic()
            assert rt.load("peers", name="a") is not None  # the second node, at once
            assert time.monotonic() - start < 0.5
            time.sleep(1.5)  # probes run meanwhile, and fail
            assert not pool.nodes[0].up
            assert "connect" in (pool.nodes[0].reason or "") or "probe" in (
                pool.nodes[0].reason or ""
            )
        deadline = time.monotonic() + 5  # the probes' interval grows to 2 s at most
        while not _up(pool, 0):
            assert time.monotonic() < deadline, pool.nodes[0].reason
            time.sleep(0.05)
        before = pool.nodes[1].pool.status()
        assert rt.load("peers", name="a") is not None
        assert pool.nodes[1].pool.status() == before  # back on the first node
        assert pool.nodes[0].pool.status().idle >= 1
