"""The realtime cache on a real slapd: hits, writes dropping rows by key, a stopped server.

ara-ldap's change feed (a polled RFC 4533 sync search, ``change_feed="poll"``) is shown by
the conformance suite's ``changes`` area and by test_ldap_replicas.py; here the cache keeps
rows by ``ttl`` (``coherence="ttl"``), or finds no ``syncprov`` on the server.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import ldap3
import pytest

from ara_ldap import schema_path
from ara_realtime import BackendError, Realtime
from ara_realtime.cache import CachePolicy, RealtimeCache
from ara_realtime.plugins import Plugins
from ara_testservers.servers import ServerError
from ara_testservers.slapd import SlapdServer

PEERS = {"name": "araExact1", "host": "araText1", "port": "araInteger1"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def base(admin: ldap3.Connection, subtree: Callable[[str], str]) -> str:
    parent = subtree("cache")
    admin.add(  # type: ignore[no-untyped-call]
        f"ou=peers,{parent}",
        ["organizationalUnit", "araTable"],
        {
            "ou": "peers",
            "araColumn": [f"{c} {a}" for c, a in PEERS.items()],
            "araObjectClass": "araRow",
        },
    )
    return parent


def test_hits_and_writes_drop_rows_by_key(make_rt: Callable[..., Realtime], base: str) -> None:
    rt = make_rt({"peers": f'ldap,"{base}",peers'}, base)
    cache = RealtimeCache({"peers": CachePolicy(ttl=math.inf, coherence="ttl")}).attach(rt)
    try:
        assert rt.capabilities("peers").change_feed == "poll"
        rt.store("peers", {"name": "alice", "host": "a"})
        rt.store("peers", {"name": "bob", "host": "b"})
        for _ in range(3):
            assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
            assert rt.load("peers", name="bob") == {"name": "bob", "host": "b"}
        stats = cache.stats().family("peers")
        assert (stats.misses, stats.hits) == (2, 4)
        assert rt.update("peers", "name", "alice", {"host": "x"}) == 1
        assert rt.load("peers", name="alice") == {"name": "alice", "host": "x"}
        assert rt.load("peers", name="bob") == {"name": "bob", "host": "b"}
        stats = cache.stats().family("peers")
        assert (stats.misses, stats.invalidations) == (3, 1)  # bob's row stayed
        assert cache.stats().backends[0].feed == "none"  # coherence="ttl": the feed is unused
    finally:
        cache.detach(rt)
        cache.close()


@pytest.fixture
def own_slapd() -> Iterator[SlapdServer]:
    """A slapd of this test's own: it is stopped (the session's server is shared)."""
    server = SlapdServer(ldif_schemas=[schema_path("ldif")])
    try:
        server.start()
    except ServerError as exc:
        server.close()
        pytest.fail(f"cannot start slapd: {exc}", pytrace=False)
    yield server
    server.close()


def test_a_stopped_directory_still_serves_cached_rows(own_slapd: SlapdServer) -> None:
    conn = ldap3.Connection(own_slapd.url(), own_slapd.root_dn, own_slapd.password, auto_bind=True)
    conn.add(  # type: ignore[no-untyped-call]
        f"ou=peers,{own_slapd.suffix}",
        ["organizationalUnit", "araTable"],
        {
            "ou": "peers",
            "araColumn": [f"{c} {a}" for c, a in PEERS.items()],
            "araObjectClass": "araRow",
        },
    )
    conn.unbind()
    clock = Clock()
    rt = Realtime(
        {"peers": f'ldap,"{own_slapd.suffix}",peers'},
        {"ldap": {own_slapd.suffix: {**own_slapd.settings(), "timeout": "2"}}},
        plugins=Plugins(),
    )
    cache = RealtimeCache({"peers": CachePolicy(ttl=60, stale_if_error=300)}, clock=clock).attach(
        rt
    )
    try:
        # a server without syncprov: the feed covers nothing, rows live by their ttl
        feed = rt.change_feeds("peers")[0][2]
        assert feed is not None and feed.ready(["peers"]) == frozenset()
        rt.store("peers", {"name": "alice", "host": "a"})
        assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
        clock.now += 61  # expired: the directory is asked, fails, and the row is answered
        own_slapd.stop()
        assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
        with pytest.raises(BackendError):  # never cached
            rt.load("peers", name="bob")
        assert cache.stats().family("peers").error_hits == 1
    finally:
        rt.close()
        cache.close()
