"""ara-ldap on an OpenLDAP provider and a read-only syncrepl consumer (ara_testservers.ldapsync).

Both servers run on a private network of namespaces on this host, so either can be cut off
from clients and from each other. Shown here:

* ``url`` lists the consumer, then the provider: reads go to the consumer; a write answered
  with the consumer's referral goes to the provider (listed), and later writes go there
  directly; ``write_url`` sends them there from the start; a referral to a server not listed
  is refused;
* each fault of either server under a read/write workload: no acknowledged write lost, none
  duplicated, calls served again within the bound (reads move to the other server; writes
  wait for the provider);
* the change feed follows the server reads go to, so a cache on top is told of a change once
  the consumer has it, and starts afresh when the reads move to the provider.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ara_ldap import schema_path
from ara_ldap.config import read_settings
from ara_ldap.driver import LdapConnection
from ara_realtime import BackendError, ConfigError, Realtime
from ara_realtime.cache import CachePolicy, RealtimeCache
from ara_realtime.changes import Change
from ara_testservers import faultmatrix
from ara_testservers.faults import require_netns
from ara_testservers.ldapcluster import LdapSyncCluster
from ara_testservers.ldapsync import LdapReplicaCluster
from ara_testservers.servers import ServerError

#: The driver's timeouts in these tests (seconds).
TIMEOUTS = {"timeout": "2", "connect_timeout": "1", "bind_timeout": "1"}
#: The longest time in which no call of the workload may succeed: a request stalled on the
#: failing server runs out of ``timeout``; then the other server takes the reads (writes wait
#: for the provider, but the workload's reads go on).
RECOVERY_BOUND = 2 + 3.0


def test_url_lists_servers_and_write_url_names_where_writes_go(tmp_path: Path) -> None:
    s = read_settings(
        "b", {"url": "ldap://a:389 ldap://b:1389, ldaps://c", "write_url": "ldap://p"}, None
    )
    assert s.urls == ("ldap://a:389", "ldap://b:1389", "ldaps://c")
    assert s.write_urls == ("ldap://p",)
    assert read_settings("b", {"host": "h", "port": "10389"}, None).urls == ("ldap://h:10389",)
    (tmp_path / "res_ldap.conf").write_text("[_general]\nurl = ldap://a ldap://a\n")
    with pytest.raises(ConfigError, match="url lists 'ldap://a' twice") as info:
        read_settings("b", {}, tmp_path)
    assert info.value.line == 2
    with pytest.raises(ConfigError, match="write_url must be ldap://host"):
        read_settings("b", {"write_url": "http://p"}, None)
    with pytest.raises(ConfigError, match="starttls = yes needs an ldap:// url"):
        read_settings("b", {"url": "ldap://a", "write_url": "ldaps://p", "starttls": "yes"}, None)


@pytest.fixture(scope="module")
def replicas() -> Iterator[LdapReplicaCluster]:
    require_netns("the replication tests")
    cluster = LdapReplicaCluster(settings=TIMEOUTS, ldif_schema=schema_path("ldif"))
    try:
        cluster.start()
    except ServerError as exc:
        pytest.fail(f"cannot start the LDAP provider and consumer: {exc}", pytrace=False)
    yield cluster
    cluster.stop()


def _rt(cluster: LdapReplicaCluster, table: str, **settings: str) -> Realtime:
    mappings, drivers = cluster.mappings(table)
    (database,) = drivers["ldap"]
    return Realtime(mappings, {"ldap": {database: {**drivers["ldap"][database], **settings}}})


def _connection(rt: Realtime) -> LdapConnection:
    rt.status()  # connects the backend
    (backend,) = rt._backends.values()
    conn = backend.connection
    assert isinstance(conn, LdapConnection)
    return conn


def test_reads_go_to_the_consumer_and_writes_follow_its_referral(
    replicas: LdapReplicaCluster,
) -> None:
    table = replicas.fresh_table("referral")
    rt = _rt(replicas, table)
    try:
        conn = _connection(rt)
        consumer, provider = replicas.node("consumer"), replicas.node("provider")
        assert conn.pool.current_url() == consumer.url()
        assert rt.store("peers", {"name": "alice", "host": "a"}) == 1  # referred, then direct
        assert conn.writes.pool is not conn.pool  # learned: the provider's pool
        assert conn.writes.pool.current_url() == provider.url()
        assert ("alice", "a") in replicas.rows("provider", table)
        assert rt.update("peers", "name", "alice", {"host": "b"}) == 1  # found on the provider
        replicas.wait_replicated()
        assert rt.load("peers", name="alice") == {"name": "alice", "host": "b"}  # the consumer
        assert rt.destroy("peers", "name", "alice") == 1
        (status,) = rt.status()
        assert f"ldap writes {provider.url()}" in status.pools
    finally:
        rt.close()


def test_write_url_sends_writes_to_the_provider_at_once(replicas: LdapReplicaCluster) -> None:
    table = replicas.fresh_table("writeurl")
    provider = replicas.node("provider")
    rt = _rt(replicas, table, write_url=provider.url())
    try:
        for i in range(20):  # each update finds its row where it writes: no replication lag
            assert rt.store("peers", {"name": f"p{i}", "host": "a"}) == 1
            assert rt.update("peers", "name", f"p{i}", {"host": "b"}) == 1
        assert _connection(rt).writes.configured is not None
        assert len(replicas.rows("provider", table)) == 20
    finally:
        rt.close()


def test_a_referral_to_a_server_not_listed_is_refused(replicas: LdapReplicaCluster) -> None:
    table = replicas.fresh_table("unlisted")
    rt = _rt(replicas, table, url=replicas.node("consumer").url())
    try:
        with pytest.raises(BackendError, match="not listed in url or write_url") as info:
            rt.store("peers", {"name": "alice"})
        assert replicas.node("provider").url() in str(info.value)
        assert replicas.node("provider").password not in str(info.value)
    finally:
        rt.close()


@pytest.mark.parametrize("kind", ["kill9", "netcut"])
def test_the_provider_down_fails_writes_while_reads_go_on(
    replicas: LdapReplicaCluster, kind: str
) -> None:
    """Writes need the provider: a BackendError within the timeouts (the core fails over or
    reports it), never a write accepted by the read-only consumer; reads stay on it."""
    table = replicas.fresh_table(f"down{kind}")
    rt = _rt(replicas, table)
    try:
        rt.store("peers", {"name": "alice", "host": "a"})  # the provider learned
        replicas.wait_replicated()
        with replicas.fault(kind, "provider"):
            for _ in range(2):  # the learned provider, then the consumer's referral to it
                start = time.monotonic()
                with pytest.raises(BackendError) as info:
                    rt.store("peers", {"name": "bob", "host": "b"})
                # connect_timeout (1 s) or timeout (2 s) on a dead path, plus a margin for a
                # loaded machine: bounded, not a speed claim
                assert time.monotonic() - start < 4, info.value
                assert replicas.node("provider").password not in str(info.value)
                start = time.monotonic()
                assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
                assert time.monotonic() - start < 1  # the consumer answers at once
        assert ("bob", "b") not in replicas.rows("consumer", table)
        assert rt.store("peers", {"name": "bob", "host": "b"}) == 1  # the provider is back
    finally:
        rt.close()


def test_a_cache_is_told_once_the_consumer_has_the_change(replicas: LdapReplicaCluster) -> None:
    table = replicas.fresh_table("cached")
    provider = replicas.node("provider")
    reader = _rt(replicas, table)
    writer = _rt(replicas, table, url=provider.url())
    cache = RealtimeCache({"peers": CachePolicy(ttl=math.inf)})
    try:
        writer.store("peers", {"name": "alice", "host": "before"})
        replicas.wait_replicated()
        cache.attach(reader)
        assert reader.load("peers", name="alice") == {"name": "alice", "host": "before"}
        assert cache.wait_coherent(5), "the feed never listened"
        (backend,) = cache.stats().backends
        assert backend.feed == "poll" and backend.tables == {table: "live"}
        assert reader.load("peers", name="alice") == {"name": "alice", "host": "before"}  # a hit
        for value in ("one", "two", "three"):
            assert writer.update("peers", "name", "alice", {"host": value}) == 1
            changed = time.monotonic()
            while reader.load("peers", name="alice") != {"name": "alice", "host": value}:
                assert time.monotonic() - changed < 5, "the cache kept the old row"
                time.sleep(0.02)
            # the row was read again once the consumer had it: never the old one cached anew
            time.sleep(cache.stats().backends[0].bound or 0.0)
            assert reader.load("peers", name="alice") == {"name": "alice", "host": value}
        assert cache.stats().family("peers").invalidations >= 3
    finally:
        cache.detach(reader)
        cache.close()
        reader.close()
        writer.close()


def test_the_feed_starts_afresh_when_reads_move_to_the_provider(
    replicas: LdapReplicaCluster,
) -> None:
    table = replicas.fresh_table("moved")
    rt = _rt(replicas, table)
    try:
        rt.store("peers", {"name": "a", "host": "h"})
        replicas.wait_replicated()
        (_, _, feed) = rt.change_feeds("peers")[0]
        assert feed is not None
        sub = feed.subscribe({table: "name"}, interval=0.1)
        try:
            assert sub.tables == {table}
            with replicas.fault("kill9", "consumer"):
                outcome: object = []
                deadline = time.monotonic() + 10
                while outcome == [] and time.monotonic() < deadline:
                    try:
                        outcome = sub.wait(0.2)
                    except BackendError as exc:  # said so: the consumer subscribes again
                        outcome = exc
                assert outcome is None or isinstance(outcome, BackendError), outcome
                assert _connection(rt).pool.current_url() == replicas.node("provider").url()
                rt.update("peers", "name", "a", {"host": "on-the-provider"})
                if outcome is None:  # it went on, on the provider: it reports the change
                    got: list[Change] = []
                    while not got:
                        got = sub.wait(0.2) or []
                        assert time.monotonic() < deadline, "the change was never reported"
                    values = got[0].values
                    assert values is not None and "a" in values
        finally:
            sub.close()
    finally:
        rt.close()


@pytest.mark.parametrize("node", ["consumer", "provider"])
@pytest.mark.parametrize("kind", faultmatrix.FAULT_KINDS)
def test_a_server_fails_under_load(replicas: LdapReplicaCluster, kind: str, node: str) -> None:
    """Each fault of either server under the fault matrix's workload (LdapSyncCluster through
    its runner; the matrix itself faults one node per kind)."""
    cluster = LdapSyncCluster(cluster=replicas)
    assert isinstance(cluster, faultmatrix.Cluster)
    assert cluster.nodes() == ["provider", "consumer"]
    assert "pass" not in cluster.settings
    assert cluster.settings["write_url"] == replicas.node("provider").url()
    # the runner calls cluster.settle() (replication caught up) before reading back
    result = faultmatrix.run_fault(cluster, kind, node, hold=2.0, tail=0.5)
    assert result.status == "ok", result
    assert result.calls > 20, result
    assert result.misclassified == 0, result.errors
    assert (result.lost_writes, result.duplicated_writes) == (0, 0), result.examples
    assert result.recovered_after_s is not None, result
    assert result.recovered_after_s < RECOVERY_BOUND, result
    # reads go on from the other server: never longer without one than a stalled request
    assert result.read_outage_s < RECOVERY_BOUND, result
    if node == "provider" and kind != "stall":  # writes fail while it is down (a stall of
        # the hold may end within the request timeout)
        assert result.failed_writes > 0, result
    mappings, drivers = cluster.mappings()
    for name, (m, d) in cluster.replicas(mappings, drivers).items():
        rt = Realtime(m, d)
        try:  # each node alone serves the run's (empty) table
            assert rt.load_multi("peers", ("name LIKE", "%")) == [], name
        finally:
            rt.close()
