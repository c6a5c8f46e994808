"""Several hosts: libpq's host lists, writes on the primary, reads where read_from says, a
read-only server (SQLSTATE 25006) taken as a lost connection. On a real primary and streaming
standby (ara_testservers.pgcluster); failover under load is in test_pgsql_failover.py."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ara_pgsql import changes
from ara_pgsql.config import read_config
from ara_realtime import BackendError, ConfigError, Realtime
from ara_realtime.cache import CachePolicy, RealtimeCache, coherence, install_change_feeds
from ara_testservers.faultmatrix import CONNECT_TIMEOUT, QUERY_TIMEOUT
from ara_testservers.pgcluster import PgCluster, PgNode

# -- settings ----------------------------------------------------------------------------------


def test_a_host_list_makes_writes_look_for_the_primary(tmp_path: Path) -> None:
    (tmp_path / "res_pgsql.conf").write_text(
        "[general]\nhostname = db1, db2\nport = 5432,5433\ndbname = pbx\nuser = u\n"
    )
    spec = read_config("general", {}, tmp_path)
    assert spec.write is None  # reads go with the writes (read_from = primary)
    args = spec.connect_args
    assert (args["host"], args["port"]) == ("db1,db2", "5432,5433")
    assert args["target_session_attrs"] == "read-write"
    assert spec.label == "pgsql database 'general' (u@db1:5432,db2:5433/pbx)"


def test_one_port_serves_every_host_and_one_host_keeps_libpqs_default() -> None:
    spec = read_config("x", {"hostname": "a,b,c", "port": "6432"}, None)
    assert spec.connect_args["port"] == "6432"
    assert "a:6432,b:6432,c:6432" in spec.label
    single = read_config("x", {"hostname": "a", "port": "6432"}, None)
    assert single.connect_args["port"] == 6432
    assert "target_session_attrs" not in single.connect_args  # as before: any server


@pytest.mark.parametrize("read_from", ["prefer-standby", "standby", "any"])
def test_read_from_gives_reads_a_pool_of_their_own(read_from: str) -> None:
    spec = read_config("x", {"hostname": "a,b", "read_from": read_from.upper()}, None)
    assert spec.connect_args["target_session_attrs"] == read_from
    assert spec.write is not None
    assert spec.write.connect_args["target_session_attrs"] == "read-write"
    assert (
        spec.label
        == f"pgsql database 'x' (asterisk@a:5432,b:5432/asterisk), reads from {read_from}"
    )
    assert spec.write.label == "pgsql database 'x' (asterisk@a:5432,b:5432/asterisk), writes"
    assert spec.connect_args["host"] == spec.write.connect_args["host"] == "a,b"


def test_load_balance_hosts_is_passed_to_libpq() -> None:
    spec = read_config("x", {"hostname": "a,b", "load_balance_hosts": "random"}, None)
    assert spec.connect_args["load_balance_hosts"] == "random"


def test_a_url_with_several_hosts_writes_to_the_primary() -> None:
    spec = read_config("x", {"url": "postgresql://u:pw@/pbx?host=a:5432&host=b:5433"}, None)
    assert spec.connect_args["target_session_attrs"] == "read-write"
    assert "pw" not in spec.label and "a:5432,b:5433" in spec.label
    assert spec.label == "pgsql database 'x' (u@a:5432,b:5433/pbx)"
    for url, shown in [
        ("postgresql://u@/db?host=127.0.0.1:1&host=127.0.0.2:2", "u@127.0.0.1:1,127.0.0.2:2/db"),
        ("postgresql://u@/db?host=a&host=b&port=1&port=2", "u@a:1,b:2/db"),
        ("postgresql://u@/db?host=a&host=b:7&port=6", "u@a:6,b:7/db"),
        ("postgresql://u@/db?host=a,b", "u@a:5432,b:5432/db"),
        ("postgresql://u:pw@h:6/db", "u@h:6/db"),
    ]:
        assert read_config("x", {"url": url}, None).label == f"pgsql database 'x' ({shown})"


@pytest.mark.parametrize(
    ("conf", "message", "line"),
    [
        ("hostname = a,b\nport = 1,2,3\n", "port lists 3 ports for 2 hosts", 3),
        ("hostname = a,,b\n", "hostname has an empty entry", 2),
        ("hostname = a,b\nport = 5432,x\n", "port must be a number from 1 to 65535, got 'x'", 3),
        ("hostname = a,b\nport = 5432,99999\n", "port must be a number from 1 to 65535", 3),
        ("hostname = a\nport = 0\n", "port must be a number from 1 to 65535, got '0'", 3),
        ("hostname = h,h\n", "hostname lists h:5432 twice", 2),
        ("hostname = h, H\nport = 5433\n", "hostname lists H:5433 twice", 2),
        ("hostname = u:s3cret@h\n", "hostname: credentials \\(user:password@\\) are not", 2),
        ("read_from = replica\n", "read_from must be one of primary, prefer-standby", 2),
        ("load_balance_hosts = yes\n", "load_balance_hosts must be one of disable, random", 2),
        (
            "url = postgresql://u@/d?host=a&host=b&target_session_attrs=any\n",
            "target_session_attrs in the url",
            2,
        ),
    ],
)
def test_bad_host_settings_name_the_line(
    tmp_path: Path, conf: str, message: str, line: int
) -> None:
    (tmp_path / "res_pgsql.conf").write_text("[general]\n" + conf)
    with pytest.raises(ConfigError, match=message) as info:
        read_config("general", {}, tmp_path)
    assert info.value.line == line
    assert "s3cret" not in str(info.value)


def test_one_host_on_two_ports_is_two_servers() -> None:
    spec = read_config("x", {"hostname": "h,h", "port": "5432,5433"}, None)
    assert spec.connect_args["host"] == "h,h"
    assert spec.connect_args["port"] == "5432,5433"


# -- on a primary and a standby ----------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    made = PgCluster(synchronous=True, paths=False)  # no cut here: no namespaces
    made.start()
    try:
        yield made
    finally:
        made.stop()


def _realtime(cluster: PgCluster, order: list[PgNode], **settings: str) -> Realtime:
    table = cluster.new_table()
    s = cluster.settings(order=order, **settings)
    return Realtime({"peers": f"pgsql,c,{table}"}, {"pgsql": {"c": s}})


def _rows(node: PgNode, rt: Realtime) -> list[str]:
    table = rt.mappings[0].table
    out = node.psql(f"SELECT name FROM {table} ORDER BY name", database="ara").split()
    return [str(x) for x in out]


def _sessions(node: PgNode, appname: str) -> int:
    return int(
        node.query(f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{appname}'")
    )


def test_writes_reach_the_primary_whatever_the_host_order(cluster: PgCluster) -> None:
    rt = _realtime(cluster, [cluster.standby, cluster.primary], appname="order-test")
    try:
        assert rt.store("peers", {"name": "a", "host": "h"}) == 1
        assert rt.update("peers", "name", "a", {"host": "h2"}) == 1
        assert rt.load("peers", name="a") == {"name": "a", "host": "h2"}
        cluster.wait_replayed()
        assert _rows(cluster.primary, rt) == _rows(cluster.standby, rt) == ["a"]
        # reads went with the writes: every session of the test is on the primary
        assert _sessions(cluster.primary, "order-test") >= 1
        assert _sessions(cluster.standby, "order-test") == 0
    finally:
        rt.close()


def test_reads_go_to_the_standby_when_asked(cluster: PgCluster) -> None:
    rt = _realtime(
        cluster, [cluster.primary, cluster.standby], appname="reads-test", read_from="standby"
    )
    try:
        assert rt.store("peers", {"name": "a", "host": "h"}) == 1
        # remote_apply: a commit returns once the standby applied it, so the read sees it
        assert rt.load("peers", name="a") == {"name": "a", "host": "h"}
        assert [r["name"] for r in rt.load_multi("peers", ("name LIKE", "%"))] == ["a"]
        reads = rt._backends[("pgsql", "c")].connection.reader
        conn = reads.acquire()
        try:
            assert conn.dbapi.info.port == cluster.standby.port
        finally:
            reads.release(conn)
        assert _sessions(cluster.standby, "reads-test") >= 1
    finally:
        rt.close()


def test_status_asks_the_write_side_too(cluster: PgCluster) -> None:
    """Reads from a standby answer; writes need the primary: status reports each side and is
    only ``up`` when both answer (a live standby must not hide a dead primary)."""
    both = _realtime(cluster, [cluster.primary, cluster.standby], read_from="standby")
    standby_only = _realtime(cluster, [cluster.standby], read_from="standby")
    try:
        (s,) = both.status()
        assert s.state == "up", s
        assert s.sides["read"].state == s.sides["write"].state == "up"
        assert s.sides["read"].reached == f"{cluster.standby.host}:{cluster.standby.port}"
        assert s.sides["write"].reached == f"{cluster.primary.host}:{cluster.primary.port}"
        (s,) = standby_only.status()
        assert s.state == "down", s
        assert s.sides["read"].state == "up" and s.sides["write"].state == "down"
        assert s.sides["read"].reached == f"{cluster.standby.host}:{cluster.standby.port}"
        assert s.error is not None and s.error.startswith("write: ")
        assert s.server is not None and s.server.startswith("PostgreSQL ")
        # the write side's error names the write side, once, and no read side
        where = f"{cluster.standby.host}:{cluster.standby.port}"
        assert s.error.count("pgsql database") == 1, s.error
        assert f"{where}/{cluster.standby.database}), writes: " in s.error, s.error
        assert "reads from" not in s.error
    finally:
        both.close()
        standby_only.close()


def test_a_fenced_primary_is_left_for_the_promoted_standby(cluster: PgCluster) -> None:
    """A switchover: the old primary is made read-only (fenced), the standby promoted. A
    pooled connection's write on the fenced server fails with SQLSTATE 25006: a lost
    connection (BackendError, the idle ones dropped), never the caller's mistake; the next
    write connects anew and libpq skips the read-only server."""
    old, new = cluster.primary, cluster.standby
    rt = _realtime(cluster, [old, new])
    try:
        assert rt.store("peers", {"name": "before", "host": "h"}) == 1
        pool = rt._backends[("pgsql", "c")].connection.writer
        held = [pool.acquire() for _ in range(3)]  # three pooled connections to the old one
        for conn in held:
            pool.release(conn)
        old.psql("ALTER SYSTEM SET default_transaction_read_only = on", "SELECT pg_reload_conf()")
        with pytest.raises(BackendError, match=r"read-only transaction \(SQLSTATE 25006\)"):
            rt.update("peers", "name", "before", {"host": "lost"})
        assert pool.status().idle == 0  # the others would fail the same way: dropped
        new.promote()
        cluster._sync(new, on=False)  # no standby to wait for until the old one rejoins
        assert rt.store("peers", {"name": "after", "host": "h"}) == 1
        assert rt.load("peers", name="before") == {"name": "before", "host": "h"}
        assert _rows(new, rt) == ["after", "before"]
        assert _rows(old, rt) == ["before"]
    finally:
        rt.close()
        # the old primary rejoins as the new one's standby (it takes the new configuration)
        old.stop()
        old.role = "down"
        cluster.rejoin()
    assert cluster.primary is new and cluster.standby is old


#: A change is seen this soon after the fencing and promotion: the feed's next ping, a new
#: connection for it (each host tried), subscribing, slack for a loaded machine.
FEED_BOUND = changes._PING_AFTER + coherence.WAIT_SLICE + 2 * CONNECT_TIMEOUT + QUERY_TIMEOUT + 3.0


def test_the_cache_feed_leaves_a_fenced_primary_for_the_promoted_standby(
    cluster: PgCluster,
) -> None:
    """The review's switchover under a cache kept ``forever``: the old primary is fenced
    (``default_transaction_read_only``) without closing its connections and the standby is
    promoted. The feed's ``LISTEN`` connection on the old server would never hear of a change
    again; its next ping (every ``_PING_AFTER`` seconds) finds the server read-only and reports
    the feed lost, every cached row is expired and it subscribes again on the new primary."""
    old, new = cluster.primary, cluster.standby
    rt = _realtime(cluster, [old, new], appname="feed-test")
    table = rt.mappings[0].table
    cache = RealtimeCache({"peers": CachePolicy(ttl=math.inf)}).attach(rt)
    writer: Realtime | None = None
    try:
        (report,) = install_change_feeds(rt)
        assert report.ready, report.error
        assert rt.store("peers", {"name": "alice", "host": "old"}) == 1
        assert cache.wait_coherent(30)
        # the store's own notification may come after a first load cached the row, and
        # expire it: load until a call is served from the cache
        served = time.monotonic() + 5
        while cache.stats().family("peers").hits == 0:
            assert time.monotonic() < served, "never served from the cache"
            assert rt.load("peers", name="alice") == {"name": "alice", "host": "old"}
            time.sleep(0.01)
        old.psql("ALTER SYSTEM SET default_transaction_read_only = on", "SELECT pg_reload_conf()")
        new.promote()
        cluster._sync(new, on=False)  # no standby to wait for until the old one rejoins
        fenced = time.monotonic()
        # another host's write: it connects anew, and libpq skips the read-only server
        settings = cluster.settings(order=[old, new])
        writer = Realtime({"peers": f"pgsql,c,{table}"}, {"pgsql": {"c": settings}})
        assert writer.update("peers", "name", "alice", {"host": "new"}) == 1
        expected = {"name": "alice", "host": "new"}
        while rt.load("peers", name="alice") != expected:
            assert time.monotonic() - fenced < FEED_BOUND, (
                f"the cache still serves the old row {FEED_BOUND:g} s after the switchover: "
                f"{cache.stats().backends[0]}"
            )
            time.sleep(0.05)
        print(f"change seen {time.monotonic() - fenced:.2f} s after the fencing")
        backend = cache.stats().backends[0]
        assert backend.feed_errors >= 1
        assert "(default_transaction_read_only), not the primary" in (backend.last_error or "")
        assert cache.wait_coherent(30)  # listening again, on the new primary
        assert writer.update("peers", "name", "alice", {"host": "newer"}) == 1
        start = time.monotonic()
        while rt.load("peers", name="alice") != {"name": "alice", "host": "newer"}:
            assert time.monotonic() - start < 1.0, "a change on the new primary was not seen"
            time.sleep(0.005)
    finally:
        cache.detach(rt)
        cache.close()
        rt.close()
        if writer is not None:
            writer.close()
        old.stop()
        old.role = "down"
        cluster.rejoin()
    assert cluster.primary is new and cluster.standby is old
