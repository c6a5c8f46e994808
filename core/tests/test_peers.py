"""SIP peers (sippeers + sipregs, as chan_sip) and PJSIP contacts, on sqlite3 and PostgreSQL."""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ara_pgsql.driver import quote
from ara_realtime import QueryError, Realtime
from ara_realtime.peers import (
    REGISTRATION_COLUMNS,
    PjsipContacts,
    SipPeers,
    address,
    insecure_port,
    merge,
)
from ara_realtime.plugins import Plugins
from ara_testservers import PostgresServer
from ara_testservers.fixtures import pg_server

__all__ = ["pg_server"]

PEER_COLUMNS = {
    "name": ("char", 40),
    "host": ("char", 40),
    "type": ("char", 6),
    "context": ("char", 40),
    "insecure": ("char", 40),
    "callbackextension": ("char", 40),
    "path": ("char", 256),
    **REGISTRATION_COLUMNS,
}
CONTACT_COLUMNS = {
    "id": ("char", 255),
    "uri": ("char", 511),
    "expiration_time": ("integer8", 20),
    "user_agent": ("char", 255),
    "via_addr": ("char", 40),
    "via_port": ("integer4", 11),
    "reg_server": ("char", 255),
    "endpoint": ("char", 255),
    "qualify_frequency": ("integer4", 11),
}
_tables = itertools.count(1)
NOW = 1_800_000_000


@pytest.fixture(params=["sqlite3", "pgsql"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[bool], Realtime]]:
    """``make(sipregs)`` -> a Realtime over fresh sippeers/sipregs/ps_contacts tables,
    with the ``sipregs`` family mapped or not (the same tables either way)."""
    n = next(_tables)
    tables = {"sippeers": f"peers{n}", "sipregs": f"regs{n}", "ps_contacts": f"contacts{n}"}
    if request.param == "sqlite3":
        driver, settings = "sqlite3", {"dbfile": str(tmp_path / "sip.db")}
    else:
        pg: PostgresServer = request.getfixturevalue("pg_server")
        driver, settings = "pgsql", pg.settings()
    settings = {**settings, "requirements": "createclose"}
    opened: list[Realtime] = []

    def build(sipregs: bool) -> Realtime:
        families = ["sippeers", "ps_contacts", *(["sipregs"] if sipregs else [])]
        rt = Realtime(
            {f: f"{driver},db,{tables[f]}" for f in families},
            {driver: {"db": settings}},
            plugins=Plugins(),
        )
        opened.append(rt)
        return rt

    setup = build(True)
    assert setup.require("sippeers", PEER_COLUMNS)
    assert setup.require("sipregs", REGISTRATION_COLUMNS)
    assert setup.require("ps_contacts", CONTACT_COLUMNS)
    yield build
    for rt in opened:
        rt.close()
    if request.param == "pgsql":
        pg = request.getfixturevalue("pg_server")
        args: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": pg.port,
            "user": pg.user,
            "password": pg.password,
            "dbname": pg.database,
        }
        with psycopg.connect(**args, autocommit=True) as conn:
            for table in tables.values():
                conn.execute(f"DROP TABLE IF EXISTS {quote(table)}")


def seed(make: Callable[[bool], Realtime]) -> None:
    rt = make(True)
    peers = [
        {"name": "alice", "host": "dynamic", "context": "internal", "ipaddr": "192.0.2.1"},
        {"name": "trunk", "host": "203.0.113.10", "port": "5060", "context": "from-trunk"},
        {"name": "cb", "host": "203.0.113.10", "port": "5060", "callbackextension": "100"},
        {"name": "named", "host": "pbx.example.org", "context": "x"},
        {"name": "loose", "host": "203.0.113.20", "insecure": "invite,port"},
        {"name": "notport", "host": "203.0.113.20", "insecure": "noport"},
        {"name": "roaming", "host": "dynamic", "insecure": "port"},
    ]
    for row in peers:
        rt.store("sippeers", row)
    # sippeers' own registration columns are stale where sipregs is used
    rt.store("sipregs", {"name": "alice", "ipaddr": "198.51.100.7", "port": "5062"})
    rt.store("sipregs", {"name": "roaming", "ipaddr": "198.51.100.9", "port": "5070"})


# -- look-up by name ----------------------------------------------------------------------------


def test_by_name_merges_sipregs(make: Callable[[bool], Realtime]) -> None:
    seed(make)
    rt = make(True)
    peer = SipPeers(rt).by_name("alice")
    assert peer is not None and peer.found_by == "name, host=dynamic"
    assert peer.peer["ipaddr"] == "192.0.2.1"
    assert peer.registration is not None and peer.registration["ipaddr"] == "198.51.100.7"
    assert peer.row["ipaddr"] == "198.51.100.7"  # sipregs over sippeers
    assert peer.row["port"] == "5062" and peer.row["context"] == "internal"
    plain = SipPeers(make(False)).by_name("alice")
    assert plain is not None and plain.registration is None
    assert plain.row["ipaddr"] == "192.0.2.1"  # without sipregs, sippeers' own columns


def test_by_name_order(make: Callable[[bool], Realtime]) -> None:
    seed(make)
    rt = make(False)
    peers = SipPeers(rt)
    assert peers.by_name("trunk", "203.0.113.10").found_by == "name, host=203.0.113.10"  # type: ignore[union-attr]
    assert peers.by_name("trunk", "::ffff:203.0.113.10") is not None  # IPv4-mapped
    assert peers.by_name("trunk", "203.0.113.99") is None  # host is another address
    # a host given as a name is never matched to a source address (as in chan_sip)
    assert peers.by_name("named", "192.0.2.55") is None
    assert peers.by_name("named").found_by == "name"  # type: ignore[union-attr]
    assert peers.by_name("alice", "192.0.2.55").found_by == "name, host=dynamic"  # type: ignore[union-attr]
    assert peers.by_name("nobody") is None
    with pytest.raises(QueryError, match="not an IP address"):
        peers.by_name("trunk", "pbx.example.org")


# -- look-up by address -------------------------------------------------------------------------


def test_by_address_order(make: Callable[[bool], Realtime]) -> None:
    seed(make)
    for sipregs in (True, False):
        peers = SipPeers(make(sipregs))
        found = peers.by_address("203.0.113.10", 5060, "100")
        assert found is not None and (found.name, found.found_by) == (
            "cb",
            "host=203.0.113.10, port=5060, callbackextension=100",
        )
        found = peers.by_address("203.0.113.10", "5060")
        assert found is not None and found.name in {"trunk", "cb"}
        assert found.found_by == "host=203.0.113.10, port=5060"
        # insecure=port: any source port; "noport" is no such flag (LIKE '%port%' is not
        # enough)
        found = peers.by_address("203.0.113.20", 5999)
        assert found is not None and found.name == "loose"
        assert found.found_by == "host=203.0.113.20, insecure=port"
        assert peers.by_address("203.0.113.30", 5060) is None


def test_by_address_registered(make: Callable[[bool], Realtime]) -> None:
    seed(make)
    rt = make(True)
    peers = SipPeers(rt)
    found = peers.by_address("198.51.100.7", 5062)
    assert found is not None and found.name == "alice"
    assert found.found_by == "sipregs: ipaddr=198.51.100.7, port=5062"
    assert found.row["ipaddr"] == "198.51.100.7" and found.row["context"] == "internal"
    assert peers.by_address("198.51.100.7", 5063) is None  # alice is not insecure=port
    found = peers.by_address("198.51.100.9", 6000)  # roaming is insecure=port
    assert found is not None and found.name == "roaming"
    assert found.found_by == "sipregs: ipaddr=198.51.100.9, insecure=port"
    # without sipregs, the registered address is sippeers' ipaddr column
    plain = SipPeers(make(False))
    found = plain.by_address("192.0.2.1", 5060)
    assert found is None  # alice's sippeers row has no port
    rt.update("sippeers", "name", "alice", {"port": "5060"})
    found = plain.by_address("192.0.2.1", 5060)
    assert found is not None and found.found_by == "ipaddr=192.0.2.1, port=5060"


def test_a_nameless_row_is_refused(
    make: Callable[[bool], Realtime], caplog: pytest.LogCaptureFixture
) -> None:
    rt = make(True)
    rt.store("sipregs", {"ipaddr": "198.51.100.50", "port": "5060"})
    rt.store("sippeers", {"host": "203.0.113.50", "port": "5060", "type": "peer"})
    with caplog.at_level(logging.WARNING, "ara_realtime.peers"):
        assert SipPeers(rt).by_address("198.51.100.50", 5060) is None
        assert SipPeers(rt).by_address("203.0.113.50", 5060) is None
    assert [r.getMessage() for r in caplog.records] == [
        "found a sipregs row for 198.51.100.50 but it has no name",
        "found a peer for 203.0.113.50 but it has no name",
    ]


# -- registration writes ------------------------------------------------------------------------


def test_register_writes_to_sipregs_when_mapped(make: Callable[[bool], Realtime]) -> None:
    seed(make)
    rt = make(True)
    peers = SipPeers(rt)
    assert peers.registration_family == "sipregs"
    n = peers.register(
        "alice",
        "2001:db8::7",
        5080,
        expiry=3600,
        defaultuser="alice",
        useragent="Yealink",
        lastms=12,
        fullcontact="sip:alice@[2001:db8::7]:5080;transport=udp",
        now=NOW,
    )
    assert n == 1
    reg = rt.load("sipregs", name="alice")
    assert reg == {
        "name": "alice",
        "ipaddr": "2001:db8::7",
        "port": "5080",
        "regseconds": str(NOW + 3600),
        "defaultuser": "alice",
        "fullcontact": "sip:alice@[2001:db8::7]:5080;transport=udp",
        "useragent": "Yealink",
        "lastms": "12",
    }
    assert rt.load("sippeers", name="alice")["ipaddr"] == "192.0.2.1"  # type: ignore[index]
    assert peers.by_address("2001:db8:0::7", 5080).name == "alice"  # type: ignore[union-attr]
    assert peers.qualify("alice", None) == 1
    assert rt.load("sipregs", name="alice")["lastms"] == "-1"  # type: ignore[index]
    assert peers.unregister("alice") == 1
    reg = rt.load("sipregs", name="alice")
    # chan_sip leaves defaultuser as it was
    assert reg == {
        "name": "alice",
        "port": "0",
        "regseconds": "0",
        "defaultuser": "alice",
        "lastms": "0",
    }
    merged = peers.by_name("alice")
    assert merged is not None and merged.row["ipaddr"] == "192.0.2.1"  # sipregs' is empty now


def test_register_writes_to_sippeers_without_sipregs(make: Callable[[bool], Realtime]) -> None:
    seed(make)
    rt = make(False)
    peers = SipPeers(rt)
    assert peers.registration_family == "sippeers"
    assert peers.register(
        "alice", "10.0.0.5", "5060", expiry=60, regserver="pbx1", path="<sip:edge>", now=NOW
    )
    row = rt.load("sippeers", name="alice")
    assert row is not None
    assert (row["ipaddr"], row["port"], row["regseconds"], row["regserver"]) == (
        "10.0.0.5",
        "5060",
        str(NOW + 60),
        "pbx1",
    )
    assert row["lastms"] == "0" and "defaultuser" not in row and "fullcontact" not in row
    assert peers.register("nobody", None, None, expiry=60) == 0
    assert not SipPeers(rt).by_name("alice").expired(NOW + 59)  # type: ignore[union-attr]
    assert SipPeers(rt).by_name("alice").expired(NOW + 61)  # type: ignore[union-attr]
    with pytest.raises(QueryError, match="not a port number"):
        peers.register("alice", "10.0.0.5", 70000, expiry=60)
    with pytest.raises(QueryError, match="expiry"):
        peers.register("alice", "10.0.0.5", 5060, expiry=1.5)  # type: ignore[arg-type]


def test_require_is_chan_sips(make: Callable[[bool], Realtime]) -> None:
    assert SipPeers(make(True)).require()
    assert SipPeers(make(False)).require()


# -- helpers ------------------------------------------------------------------------------------


def test_address_and_insecure_rules() -> None:
    assert address("::ffff:192.0.2.1") == "192.0.2.1"
    assert address("[2001:DB8:0::1]") == "2001:db8::1"
    assert not insecure_port(None) and not insecure_port("no") and not insecure_port("very")
    assert insecure_port("port") and insecure_port("invite,PORT")
    assert not insecure_port("invite, port")  # words are not trimmed, as in chan_sip
    assert merge({"Name": "a", "IPADDR": "1"}, {"ipaddr": "2", "lastms": "5"}) == {
        "Name": "a",
        "IPADDR": "2",
        "lastms": "5",
    }


# -- PJSIP contacts -----------------------------------------------------------------------------


def test_pjsip_contacts(make: Callable[[bool], Realtime]) -> None:
    contacts = PjsipContacts(make(False))
    uri = "sip:alice@192.0.2.1:5060;ob"
    cid = contacts.register(
        "alice", uri, expires=300, now=NOW, user_agent="Yealink", via_addr="192.0.2.1",
        via_port=5060, endpoint="alice",
    )  # fmt: skip
    assert cid == "alice;@" + hashlib.md5(uri.encode()).hexdigest()
    assert contacts.by_id(cid) == {
        "id": cid,
        "uri": uri,
        "expiration_time": str(NOW + 300),
        "user_agent": "Yealink",
        "via_addr": "192.0.2.1",
        "via_port": "5060",
        "endpoint": "alice",
    }
    # a refresh updates the same row
    assert contacts.register("alice", uri, expires=600, now=NOW + 10) == cid
    assert [r["expiration_time"] for r in contacts.by_aor("alice")] == [str(NOW + 610)]
    other = contacts.register("a_ice", "sip:x@192.0.2.9", expires=60, now=NOW)
    assert [r["id"] for r in contacts.by_aor("a_ice")] == [other]  # "_" is no wildcard
    assert [r["id"] for r in contacts.by_aor("alice")] == [cid]
    assert [r["id"] for r in contacts.by_address("192.0.2.1", 5060)] == [cid]
    assert [r["id"] for r in contacts.expired(NOW + 61)] == [other]
    assert contacts.unregister("alice", uri) == 1
    assert contacts.by_aor("alice") == []
    assert contacts.remove(other) == 1
    with pytest.raises(QueryError, match="give text or a whole number"):
        contacts.register("alice", uri, expires=60, prune_on_boot=True)
    with pytest.raises(QueryError, match="do not give one"):
        contacts.register("alice", uri, expires=60, id="x")


def test_the_merged_row_keeps_the_peers_id_and_name() -> None:
    peer = {"id": "7", "name": "alice", "host": "dynamic", "ipaddr": "192.0.2.1"}
    registration = {"id": "3", "NAME": "Alice", "ipaddr": "198.51.100.7", "port": "5062"}
    assert merge(peer, registration) == {
        "id": "7",  # the sippeers row the peer is; sipregs' id is in Peer.registration
        "name": "alice",
        "host": "dynamic",
        "ipaddr": "198.51.100.7",
        "port": "5062",
    }


def test_a_peer_without_a_sipregs_row_is_written_nowhere_and_said_so(
    make: Callable[[bool], Realtime], caplog: pytest.LogCaptureFixture
) -> None:
    seed(make)
    peers = SipPeers(make(True))
    with caplog.at_level(logging.WARNING, logger="ara_realtime.peers"):
        assert peers.register("trunk", "203.0.113.10", 5060, expiry=60) == 0  # as chan_sip
        assert peers.qualify("trunk", 20) == 0
    assert [r.getMessage() for r in caplog.records] == [
        "peer 'trunk' has no sipregs row: chan_sip only updates registration rows, so nothing "
        "was written (store a row with its name: realtime import sippeers does)"
    ] * 2
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ara_realtime.peers"):
        assert SipPeers(make(False)).qualify("nosuchpeer", 20) == 0  # no peer: nothing to say
    assert caplog.records == []
