"""Asterisk's own LDAP layout: its schema, AsteriskSIPUser entries under the extconfig base DN,
told apart by additionalFilter, read through a res_ldap.conf mapping as Asterisk configures it."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import ldap3
import pytest

from ara_ldap import schema_path
from ara_realtime import Config, QueryError, Realtime
from ara_testservers.servers import ServerError
from ara_testservers.slapd import SlapdServer

BASE = "ou=asterisk,dc=ara,dc=test"

RES_LDAP = """\
[_general]
url = {url}
user = {user}
pass = {password}
basedn = dc=ara,dc=test

[sip]
name = cn
host = AstAccountHost
secret = AstAccountSecret
context = AstAccountContext
ipaddr = AstAccountIPAddress
port = AstAccountPort
regseconds = AstAccountExpirationTimestamp
allow = AstAccountAllowedCodec
fullcontact = AstAccountFullContact
directmedia = AstAccountDirectMedia   ; in Asterisk's sample, but not in its schema
additionalFilter = (objectClass=AsteriskSIPUser)
objectClasses = device, AsteriskSIPUser
rdnAttribute = cn

[config]
filename = AstConfigFilename
category = AstConfigCategory
variable_name = AstConfigVariableName
variable_value = AstConfigVariableValue
cat_metric = AstConfigCategoryMetric
var_metric = araConfigVariableMetric
commented = AstConfigCommented
additionalFilter = (objectClass=AsteriskConfig)
"""

ENTRIES = """\
dn: {base}
objectClass: organizationalUnit
ou: asterisk

dn: cn=alice,{base}
objectClass: device
objectClass: AsteriskSIPUser
cn: alice
AstAccountHost: dynamic
AstAccountSecret: s3cret
AstAccountContext: internal
AstAccountPort: 5060
AstAccountAllowedCodec: ulaw
AstAccountAllowedCodec: alaw

dn: cn=Alice2,{base}
objectClass: device
objectClass: AsteriskSIPUser
cn: Alice2
AstAccountHost: Dynamic
AstAccountContext: internal

dn: cn=not-a-peer,{base}
objectClass: device
cn: not-a-peer
"""

STATIC = [
    ("general", "1", "static", "yes", "0"),
    ("general", "1", "writeprotect", "no", None),
    ("default", "0", "exten", "100,1,Answer()", "0"),
    ("default", "0", "exten", "100,2,Hangup()", "1"),
    ("hidden", "0", "x", "y", "0"),
]


@pytest.fixture(scope="module")
def asterisk_slapd(asterisk_corpus: Path) -> Iterator[SlapdServer]:
    schema = asterisk_corpus / "asterisk-ldap" / "asterisk.ldap-schema"
    assert schema.is_file(), f"Asterisk's LDAP schema is missing from the corpus: {schema}"
    server = SlapdServer(schemas=[schema], ldif_schemas=[schema_path("ldif")])
    try:
        server.start()
    except ServerError as exc:
        server.close()
        pytest.fail(f"cannot start slapd with Asterisk's schema: {exc}", pytrace=False)
    ldif = ENTRIES.format(base=BASE)
    for i, (cat, metric, name, value, var_metric) in enumerate(STATIC):
        ldif += (
            f"\ndn: cn=row{i},{BASE}\nobjectClass: applicationProcess\n"
            f"objectClass: AsteriskConfig\nobjectClass: araConfigMetrics\ncn: row{i}\n"
            f"AstConfigFilename: extensions.conf\nAstConfigCategory: {cat}\n"
            f"AstConfigCategoryMetric: {metric}\nAstConfigVariableName: {name}\n"
            f"AstConfigVariableValue: {value}\n"
            f"AstConfigCommented: {'TRUE' if cat == 'hidden' else 'FALSE'}\n"
        )
        if var_metric is not None:
            ldif += f"araConfigVariableMetric: {var_metric}\n"
    server.slapadd(ldif)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def rt(asterisk_slapd: SlapdServer, tmp_path: Path) -> Iterator[Realtime]:
    (tmp_path / "res_ldap.conf").write_text(
        RES_LDAP.format(
            url=asterisk_slapd.url(), user=asterisk_slapd.root_dn, password=asterisk_slapd.password
        )
    )
    base = BASE.replace(",", "|")  # Asterisk's spelling of commas in an unquoted database
    (tmp_path / "extconfig.conf").write_text(
        textwrap.dedent(
            f"""\
            [settings]
            sippeers => ldap,{base},sip
            extensions.conf => ldap,"{BASE}",config
            """
        )
    )
    realtime = Realtime.from_config_dir(tmp_path)
    yield realtime
    realtime.close()


def test_read_sip_users_through_the_mapping(rt: Realtime) -> None:
    assert rt.load("sippeers", name="alice") == {
        "name": "alice",
        "host": "dynamic",
        "secret": "s3cret",
        "context": "internal",
        "port": "5060",
        "allow": "ulaw;alaw",  # two values of one attribute read as one
    }
    # the directory matches cn and AstAccountHost ignoring case; the driver does not
    assert rt.load("sippeers", name="ALICE") is None
    assert rt.load_multi("sippeers", ("host", "dynamic")) == [rt.load("sippeers", name="alice")]
    names = [r["name"] for r in rt.load_multi("sippeers", ("name LIKE", "%"))]
    assert names == ["Alice2", "alice"]  # not-a-peer is not an AsteriskSIPUser; code points
    assert rt.load_multi("sippeers", ("name LIKE", "alice%")) == [rt.load("sippeers", name="alice")]
    assert rt.load("sippeers", ("port >", "5000")) is not None  # DirectoryString: text order
    assert rt.require("sippeers", {"name": ("char", 80), "port": ("uinteger2", 5)}) is True
    assert rt.require("sippeers", {"directmedia": ("char", 3)}) is False  # not in the schema
    with pytest.raises(QueryError, match="no column 'useragent'"):
        rt.load("sippeers", useragent="x")


def test_store_update_destroy_with_the_name_as_rdn(
    rt: Realtime, asterisk_slapd: SlapdServer
) -> None:
    assert rt.store("sippeers", {"name": "bob, jr.+1", "host": "dynamic", "port": "5061"}) == 1
    with ldap3.Connection(
        asterisk_slapd.url(), asterisk_slapd.root_dn, asterisk_slapd.password, auto_bind=True
    ) as conn:
        conn.search(BASE, "(AstAccountPort=5061)", ldap3.LEVEL, attributes=["cn"])
        (entry,) = conn.entries  # right below the base DN, named by the escaped name
        assert entry.cn.value == "bob, jr.+1"
        assert entry.entry_dn.lower() == f"cn=bob\\2c jr.\\2b1,{BASE}"
    with pytest.raises(QueryError, match="already has an entry named by") as info:
        rt.store("sippeers", {"name": "bob, jr.+1"})
    assert "bob" not in str(info.value), "an error message carries a written value"
    with pytest.raises(QueryError, match="needs a value for 'name'"):
        rt.store("sippeers", {"host": "h"})
    with pytest.raises(QueryError, match="does not define"):
        rt.store("sippeers", {"name": "carol", "directmedia": "yes"})
    assert rt.update("sippeers", "name", "bob, jr.+1", {"ipaddr": "10.0.0.9", "host": ""}) == 1
    assert rt.load("sippeers", name="bob, jr.+1") == {
        "name": "bob, jr.+1",
        "ipaddr": "10.0.0.9",
        "port": "5061",
    }
    with pytest.raises(QueryError, match="cannot change it"):
        rt.update("sippeers", "name", "bob, jr.+1", {"name": "robert"})
    assert rt.destroy("sippeers", "name", "bob, jr.+1") == 1
    assert rt.load("sippeers", name="bob, jr.+1") is None


def test_static_configuration_with_the_metric_asterisk_lacks(rt: Realtime) -> None:
    got = rt.load_config("extensions.conf")
    want = Config.from_string(
        "[general]\nstatic = yes\nwriteprotect = no\n"
        "[default]\nexten = 100,1,Answer()\nexten = 100,2,Hangup()\n"
    )
    assert got == want  # cat_metric descending, var_metric, commented=TRUE left out
