"""What the conformance suite cannot see: the directory's own failures, paging, araTable
entries, the shipped schema's two forms."""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import ldap3
import pytest

from ara_ldap import schema_path
from ara_ldap.driver import LdapConnection
from ara_realtime import BackendError, ConfigError, QueryError, Realtime
from ara_testservers.servers import ServerError
from ara_testservers.slapd import SlapdServer


def make_table(admin: ldap3.Connection, parent: str, name: str, columns: dict[str, str]) -> str:
    dn = f"ou={name},{parent}"
    admin.add(  # type: ignore[no-untyped-call]
        dn,
        ["organizationalUnit", "araTable"],
        {
            "ou": name,
            "araColumn": [f"{c} {a}" for c, a in columns.items()],
            "araObjectClass": "araRow",
        },
    )
    return dn


PEERS = {"name": "araExact1", "host": "araText1", "port": "araInteger1"}


@pytest.fixture
def peers(
    admin: ldap3.Connection, subtree: Callable[[str], str], make_rt: Callable[..., Realtime]
) -> tuple[Realtime, str]:
    base = subtree("drv")
    make_table(admin, base, "peers", PEERS)
    return make_rt({"peers": f'ldap,"{base}",peers'}, base), base


def test_paged_results_beyond_the_page_size(
    admin: ldap3.Connection, subtree: Callable[[str], str], make_rt: Callable[..., Realtime]
) -> None:
    base = subtree("paged")
    make_table(admin, base, "peers", PEERS)
    rt = make_rt({"peers": f'ldap,"{base}",peers'}, base, page_size="3")
    for i in range(10):
        assert rt.store("peers", {"name": f"p{i:02d}", "host": "h", "port": str(100 - i)}) == 1
    got = rt.load_multi("peers", ("port >", "0"))
    assert [r["port"] for r in got] == [str(p) for p in range(91, 101)]
    assert rt.load("peers", ("host", "h"), ("name", "p07")) == {
        "name": "p07",
        "host": "h",
        "port": "93",
    }
    assert rt.update("peers", "host", "h", {"host": "H"}) == 10
    assert rt.destroy("peers", "host", "H") == 10


def test_status_asks_the_server(peers: tuple[Realtime, str]) -> None:
    rt, _ = peers
    rt.load("peers", name="x")
    (backend,) = rt.status()
    text = repr(backend)
    assert "protocol versions 3" in text and "ldap://127.0.0.1" in text, text


def _dead_port() -> int:
    """A loopback port nothing listens on (connections to it are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_status_asks_where_writes_go_too(
    make_rt: Callable[..., Realtime],
    slapd: SlapdServer,
    subtree: Callable[[str], str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = subtree("status")
    db = base.replace(",", "|")
    (s,) = make_rt({"peers": f"ldap,{db}"}, db, write_url=slapd.url()).status()
    assert s.state == "up" and s.sides["read"].reached == s.sides["write"].reached == slapd.url()
    dead = f"ldap://127.0.0.1:{_dead_port()}"
    (s,) = make_rt({"peers": f"ldap,{db}"}, db, write_url=dead).status()
    assert s.state == "down", s
    assert s.sides["read"].state == "up" and s.sides["read"].reached == slapd.url()
    assert s.sides["write"].state == "down" and s.sides["write"].reached is None
    assert s.error is not None and s.error.startswith("write: ") and dead in s.error
    assert s.server is not None and "protocol versions 3" in s.server
    # the command shows each side, and exits 3 (a backend failure)
    from ara_realtime.cli import EXIT_BACKEND, main

    (tmp_path / "extconfig.conf").write_text(f"[settings]\npeers => ldap,{db}\n")
    settings = {**slapd.settings(), "write_url": dead, "connect_timeout": "1"}
    (tmp_path / "res_ldap.conf").write_text(
        "[_general]\n" + "".join(f"{k} = {v}\n" for k, v in settings.items())
    )
    assert main(["--config-dir", str(tmp_path), "status", "--plain"]) == EXIT_BACKEND
    out = capsys.readouterr().out
    assert f"reads: up ({slapd.url()})" in out and "writes: down (" in out, out


def test_tables_and_the_base_dn(
    peers: tuple[Realtime, str], make_rt: Callable[..., Realtime], slapd: SlapdServer
) -> None:
    rt, base = peers
    assert rt.require("peers", {"name": ("char", 40), "port": ("uinteger2", 5)}) is True
    with pytest.raises(QueryError, match="holds integers") as info:
        rt.store("peers", {"name": "x", "port": "five-oh-six-oh"})
    assert "five" not in str(info.value), "an error message carries a written value"
    assert rt.require("peers", {"port": ("char", 5)}) is False  # an INTEGER attribute
    assert rt.require("peers", {"secret": ("char", 5)}) is False  # not mapped
    rt.store("peers", {"name": "a"})
    assert rt.unload("peers") is True
    assert rt.load("peers", name="a") == {"name": "a"}
    other = make_rt({"nope": f'ldap,"{base}",nope'}, base)
    with pytest.raises(QueryError, match="neither a \\[nope\\] section"):
        other.load("nope", name="a")
    gone = f"ou=gone,{base}"
    with pytest.raises(BackendError, match="base DN does not exist"):
        make_rt({"gone": f'ldap,"{gone}",x'}, gone).load("gone", name="a")


def test_no_object_classes_means_no_store(
    admin: ldap3.Connection, subtree: Callable[[str], str], make_rt: Callable[..., Realtime]
) -> None:
    base = subtree("nostore")
    admin.add(  # type: ignore[no-untyped-call]
        f"ou=t,{base}", ["organizationalUnit", "araTable"], {"ou": "t", "araColumn": "name cn"}
    )
    rt = make_rt({"t": f'ldap,"{base}",t'}, base)
    with pytest.raises(QueryError, match="names no object classes"):
        rt.store("t", {"name": "x"})
    admin.add(f"ou=bad,{base}", ["organizationalUnit", "araTable"], {"ou": "bad", "araColumn": "x"})  # type: ignore[no-untyped-call]
    with pytest.raises(ConfigError, match="is not '<column> <attribute>'"):
        make_rt({"bad": f'ldap,"{base}",bad'}, base).load("bad", x="1")


def test_several_values_read_joined_and_empty_octets_read_absent(
    peers: tuple[Realtime, str], admin: ldap3.Connection
) -> None:
    rt, base = peers
    admin.add(  # type: ignore[no-untyped-call]
        f"cn=m,ou=peers,{base}",
        ["araRow"],
        {"cn": "m", "araExact1": b"", "araText1": ["a", "b;c"], "araInteger1": "7"},
    )
    row = rt.load("peers", port="7")
    assert row is not None and row["host"] in ("a;b;c", "b;c;a") and "name" not in row
    assert rt.load_multi("peers", ("name", "")) == [row]
    assert rt.load("peers", ("host", row["host"])) == row  # found although no value equals it


@pytest.fixture
def private_slapd() -> Iterator[SlapdServer]:
    server = SlapdServer(ldif_schemas=[schema_path("ldif")])
    try:
        server.start()
    except ServerError as exc:
        server.close()
        pytest.fail(f"cannot start slapd: {exc}", pytrace=False)
    yield server
    server.close()


def _private_rt(server: SlapdServer, **settings: str) -> Realtime:
    conn = ldap3.Connection(server.url(), server.root_dn, server.password, auto_bind=True)
    if not conn.search(f"ou=peers,{server.suffix}", "(objectClass=*)", ldap3.BASE):
        make_table(conn, server.suffix, "peers", PEERS)
    conn.unbind()
    return Realtime(
        {"peers": f'ldap,"{server.suffix}",peers'},
        {"ldap": {server.suffix: {**server.settings(), **settings}}},
    )


def test_rebinds_after_a_restart_and_fails_clearly_when_gone(private_slapd: SlapdServer) -> None:
    rt = _private_rt(private_slapd, pool_size="2")
    try:
        rt.store("peers", {"name": "a", "port": "1"})
        assert rt.load("peers", name="a") == {"name": "a", "port": "1"}
        private_slapd.restart()  # every pooled connection is now dead
        assert rt.load("peers", name="a") == {"name": "a", "port": "1"}
        assert rt.update("peers", "name", "a", {"port": "2"}) == 1
        private_slapd.stop()
        start = time.monotonic()
        with pytest.raises(BackendError) as info:
            rt.load("peers", name="a")
        assert time.monotonic() - start < 3
        message = str(info.value)
        assert private_slapd.url() in message and private_slapd.password not in message
    finally:
        rt.close()


def test_a_stalled_server_is_a_backend_error_within_the_timeouts(
    private_slapd: SlapdServer,
) -> None:
    rt = _private_rt(private_slapd, timeout="1", bind_timeout="1", pool_size="1")
    fresh = _private_rt(private_slapd, timeout="1", bind_timeout="1", pool_timeout="0.3")
    try:
        rt.store("peers", {"name": "a"})
        private_slapd.pause()
        start = time.monotonic()
        with pytest.raises(BackendError, match="timed out"):
            rt.load("peers", name="a")  # on the pooled connection: the request times out
        with pytest.raises(BackendError, match="timed out"):
            fresh.load("peers", name="a")  # a new connection: the bind times out
        # two 1 s timeouts; the margin is for a loaded 2-core CI machine, not a speed claim
        assert time.monotonic() - start < 10
    finally:
        private_slapd.resume()
        rt.close()
        fresh.close()


def test_connections_are_reset_when_closed(private_slapd: SlapdServer) -> None:
    """SO_LINGER 0 from the start: however a connection is closed (ldap3 closes one a request
    timed out on), a request still unsent on a path that drops packets is discarded, never
    delivered after the caller was told it failed (test_ldap_replicas.py's netcut tests)."""
    rt = _private_rt(private_slapd, pool_size="2")
    try:
        rt.store("peers", {"name": "a"})
        (backend,) = rt._backends.values()
        conn = backend.connection
        assert isinstance(conn, LdapConnection)
        (idle,) = conn.pool._idle
        linger = idle.socket.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)
        assert struct.unpack("ii", linger) == (1, 0)
    finally:
        rt.close()


def test_the_pool_bounds_waiting_for_a_connection(private_slapd: SlapdServer) -> None:
    rt = _private_rt(private_slapd, timeout="2", pool_size="1", pool_timeout="0.2")
    try:
        rt.store("peers", {"name": "a"})
        private_slapd.pause()
        errors: list[BaseException] = []

        def hold() -> None:  # takes the only connection and waits for the stalled server
            try:
                rt.load("peers", name="a")
            except BackendError as exc:
                errors.append(exc)

        holder = threading.Thread(target=hold)
        holder.start()
        time.sleep(0.3)
        start = time.monotonic()
        with pytest.raises(BackendError, match="no free connection within 0.2 s"):
            rt.load("peers", name="b")
        assert time.monotonic() - start < 5  # bounded (a margin for a loaded machine)
        holder.join(5)
        assert errors and "timed out" in str(errors[0])
    finally:
        private_slapd.resume()
        rt.close()


def _definitions(ldif: str) -> list[str]:
    unfolded = re.sub(r"\n ", "", ldif)
    out = []
    for line in unfolded.splitlines():
        match = re.match(
            r"olc(ObjectIdentifier|AttributeTypes|ObjectClasses): (?:\{\d+\})?(.*)", line
        )
        if match:
            out.append(f"{match.group(1)} {' '.join(match.group(2).split())}")
    return out


def test_the_schema_and_its_ldif_define_the_same(tmp_path: Path) -> None:
    """slaptest's cn=config rendering of ara-realtime.schema equals ara-realtime.ldif."""
    server = SlapdServer(tmp_path, schemas=[schema_path("schema")])
    server._configure()  # builds cn=config from slapd.conf, without starting
    converted = next(
        (server.config_dir / "cn=config" / "cn=schema").glob("cn={*}ara-realtime.ldif")
    )
    shipped = _definitions(schema_path("ldif").read_text())
    assert len(shipped) == 3 + 5 + 16 + 16 + 8 + 3
    assert _definitions(converted.read_text()) == shipped


def test_load_finds_the_exact_row_beyond_the_first_candidates(
    peers: tuple[Realtime, str],
) -> None:
    """40 entries the directory holds equal to "h" (case-insensitive araText1), one exactly."""
    rt, _ = peers
    for i in range(40):
        rt.store("peers", {"name": f"n{i:02d}", "host": "H" if i != 37 else "h"})
    assert rt.load("peers", host="h") == {"name": "n37", "host": "h"}
    assert rt.load("peers", ("host", "h"), ("name LIKE", "n3%")) == {"name": "n37", "host": "h"}
    assert rt.load("peers", host="H ") is None
    assert len(rt.load_multi("peers", host="H")) == 39


def test_a_server_size_limit_is_an_error_never_a_short_answer(
    slapd: SlapdServer,
    admin: ldap3.Connection,
    subtree: Callable[[str], str],
    make_rt: Callable[..., Realtime],
) -> None:
    """A bind DN the server limits to 5 entries: a bigger answer is a BackendError."""
    import subprocess
    import urllib.parse

    base = subtree("limited")
    make_table(admin, base, "peers", PEERS)
    reader = f"cn=reader,{base}"
    admin.add(reader, ["applicationProcess", "simpleSecurityObject"], {"userPassword": "pw"})  # type: ignore[no-untyped-call]
    ldapi = "ldapi://" + urllib.parse.quote(str(slapd.socket), safe="")
    change = (
        "dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\nadd: olcLimits\n"
        f'olcLimits: dn.exact="{reader}" size=5\n'
    )
    proc = subprocess.run(
        ["ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", ldapi],
        input=change,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    try:
        writer = make_rt({"peers": f'ldap,"{base}",peers'}, base)
        for i in range(8):
            writer.store("peers", {"name": f"p{i}", "port": str(i)})
        rt = make_rt({"peers": f'ldap,"{base}",peers'}, base, user=reader, **{"pass": "pw"})
        assert len(rt.load_multi("peers", ("port <", "4"))) == 4
        with pytest.raises(BackendError, match="sizeLimitExceeded.*size limit"):
            rt.load_multi("peers", ("port >=", "0"))
    finally:
        undo = change.replace("add: olcLimits", "delete: olcLimits")
        subprocess.run(
            ["ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", ldapi],
            input=undo,
            capture_output=True,
            text=True,
            check=False,
        )


@pytest.fixture(scope="module")
def tls_slapd() -> Iterator[SlapdServer]:
    server = SlapdServer(ldif_schemas=[schema_path("ldif")], tls=True)
    try:
        server.start()
    except ServerError as exc:
        server.close()
        pytest.fail(f"cannot start slapd with TLS: {exc}", pytrace=False)
    yield server
    server.close()


def test_ldaps_and_starttls_with_a_ca_file(tls_slapd: SlapdServer) -> None:
    assert tls_slapd.ca_file is not None
    ca = str(tls_slapd.ca_file)
    ldaps = f"ldaps://127.0.0.1:{tls_slapd.tls_port}"
    for settings in (
        {"url": ldaps, "cafile": ca},
        {"url": tls_slapd.url(), "starttls": "yes", "cafile": ca},
    ):
        rt = _private_rt(tls_slapd, **settings)
        try:
            assert rt.store("peers", {"name": f"via {settings['url'][:5]}"}) == 1
            assert rt.load("peers", name=f"via {settings['url'][:5]}") is not None
        finally:
            rt.close()
    for settings in ({"url": ldaps}, {"url": tls_slapd.url(), "starttls": "yes"}):
        rt = _private_rt(tls_slapd, **settings)  # the system's CAs do not know the test CA
        try:
            with pytest.raises(BackendError, match="cannot connect|StartTLS"):
                rt.load("peers", name="x")
        finally:
            rt.close()


def test_text_that_is_not_unicode_is_a_query_error(peers: tuple[Realtime, str]) -> None:
    rt, _ = peers
    for call in (
        lambda: rt.load("peers", name="a\ud800"),
        lambda: rt.load_multi("peers", ("host LIKE", "\udfff%")),
        lambda: rt.store("peers", {"name": "\ud800"}),
        lambda: rt.update("peers", "name", "a", {"host": "\ud800"}),
    ):
        with pytest.raises(QueryError, match="not valid Unicode|surrogate"):
            call()
