"""Fixtures for the ldap driver's tests: a throwaway slapd with the shipped schema loaded."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import ldap3
import pytest
from ldap3.core.exceptions import LDAPNoSuchObjectResult

from ara_ldap import schema_path
from ara_realtime import Realtime
from ara_realtime.plugins import Plugins
from ara_testservers.ldapsync import SyncprovSlapd
from ara_testservers.servers import ServerError
from ara_testservers.slapd import SlapdServer


def _start(server: SlapdServer, what: str) -> SlapdServer:
    try:
        server.start()
    except ServerError as exc:
        server.close()
        pytest.fail(f"cannot start slapd for {what}: {exc}", pytrace=False)
    return server


@pytest.fixture(scope="session")
def slapd() -> Iterator[SlapdServer]:
    """slapd with OpenLDAP's standard schemas and ara-realtime's (in its cn=config form), and
    the syncprov overlay the driver's change feed follows."""
    server = _start(SyncprovSlapd(ldif_schemas=[schema_path("ldif")]), "the ldap tests")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def ldap_plugins() -> Plugins:
    return Plugins()


@pytest.fixture
def admin(slapd: SlapdServer) -> Iterator[ldap3.Connection]:
    """ldap3 bound as the root DN, beside the driver (the back door)."""
    conn = ldap3.Connection(
        ldap3.Server(slapd.url(), get_info=ldap3.NONE),
        slapd.root_dn,
        slapd.password,
        auto_bind=True,
        raise_exceptions=True,
        check_names=False,
    )
    yield conn
    conn.unbind()


_counter = iter(range(1, 1_000_000))


@pytest.fixture
def subtree(admin: ldap3.Connection, slapd: SlapdServer) -> Iterator[Callable[[str], str]]:
    """``new(name)`` -> the DN of a fresh ``ou`` under the suffix, removed (with its subtree)
    after the test."""
    made: list[str] = []

    def new(name: str) -> str:
        dn = f"ou={name}-{next(_counter)},{slapd.suffix}"
        admin.add(dn, ["organizationalUnit"], {"ou": dn.split(",", maxsplit=1)[0][3:]})  # type: ignore[no-untyped-call]
        made.append(dn)
        return dn

    yield new
    for dn in made:
        delete_tree(admin, dn)


def delete_tree(conn: ldap3.Connection, dn: str) -> None:
    try:
        conn.search(dn, "(objectClass=*)", ldap3.LEVEL, attributes=[])
    except LDAPNoSuchObjectResult:
        return
    assert conn.response is not None  # a search that returned sets it
    for child in [e["dn"] for e in conn.response if e.get("type") == "searchResEntry"]:
        delete_tree(conn, child)
    conn.delete(dn)  # type: ignore[no-untyped-call]


@pytest.fixture
def make_rt(slapd: SlapdServer, ldap_plugins: Plugins) -> Iterator[Callable[..., Realtime]]:
    """``make_rt(mappings, database, **settings)`` -> a Realtime on the test server."""
    opened: list[Realtime] = []

    def make(mappings: dict[str, str], database: str, **settings: str) -> Realtime:
        rt = Realtime(
            mappings, {"ldap": {database: {**slapd.settings(), **settings}}}, plugins=ldap_plugins
        )
        opened.append(rt)
        return rt

    yield make
    for rt in opened:
        rt.close()
