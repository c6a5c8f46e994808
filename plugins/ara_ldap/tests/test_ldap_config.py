"""res_ldap.conf as Asterisk writes it, and the settings ara-ldap adds (no server needed)."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from ara_ldap.config import base_dn, read_settings
from ara_ldap.driver import LdapConnection
from ara_realtime import ConfigError


def _conf(tmp_path: Path, text: str) -> Path:
    (tmp_path / "res_ldap.conf").write_text(text)
    return tmp_path


def test_asterisks_sample_file_reads_as_it_is(tmp_path: Path, asterisk_corpus: Path) -> None:
    sample = asterisk_corpus / "asterisk-conf-samples" / "res_ldap.conf.sample"
    (tmp_path / "res_ldap.conf").write_bytes(sample.read_bytes())
    s = read_settings('"dc=myDomain,dc=myDomainExt"', {}, tmp_path)
    assert s.url == "ldap://localhost:389" and s.user is None
    config = s.sections["config"]
    assert config.filters == ["(objectClass=AstConfig)"]
    assert ("variable_value", "AstConfigVariableValue") in config.mappings
    accounts = s.sections["accounts"]
    # fullcontact is mapped twice: both lines are kept, the table takes the last (as Asterisk)
    assert [a for n, a in accounts.mappings if n == "fullcontact"] == [
        "AstAccountFullContact",
        "gecos",
    ]
    assert s.sections["testfamily"].mappings == [("MyUSERID", "uid")]


def test_general_keys_sections_and_code(tmp_path: Path) -> None:
    _conf(
        tmp_path,
        "[_general]\nhost = 10.0.0.1\nport = 3890\nuser = cn=asterisk,dc=x\npass = s3cret\n"
        "fullcontact = gecos\nadditionalFilter = (o=pbx)\ntimeout = 2.5\n"
        "[sip]\nname = cn\nadditionalFilter = (objectClass=AsteriskSIPUser)\n"
        "objectClasses = device, AsteriskSIPUser\nrdnAttribute = cn\n",
    )
    s = read_settings("dc=x", {"pool_size": "2", "sip.host": "AstAccountHost"}, tmp_path)
    assert s.url == "ldap://10.0.0.1:3890" and s.password == "s3cret" and s.timeout == 2.5
    assert s.pool_size == 2 and s.connect_timeout == 5 and s.bind_timeout == 5
    assert s.general.mappings == [("fullcontact", "gecos")]
    assert s.general.filters == ["(o=pbx)"]
    sip = s.sections["sip"]
    assert sip.mappings == [("name", "cn"), ("host", "AstAccountHost")]
    assert sip.object_classes == ["device", "AsteriskSIPUser"] and sip.rdn_attribute == "cn"
    assert "s3cret" not in repr(s)
    assert read_settings("dc=x", {"url": "ldaps://dir.example:636/"}, None).url == (
        "ldaps://dir.example:636"
    )
    assert read_settings("dc=x", {"user": "cn=a"}, None).password == "asterisk"  # Asterisk's


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("[_general]\nurl = http://x\n", {}, "res_ldap.conf:2: url must be"),
        ("[_general]\nversion = 2\n", {}, "res_ldap.conf:2: .*version 3 only"),
        ("[sip]\nname = c n\n", {}, "res_ldap.conf:2: 'c n' is not an LDAP attribute"),
        ("[sip]\nadditionalFilter = objectClass=x\n", {}, "res_ldap.conf:2: .*parenthesised"),
        (
            "[sip]\nadditionalFilter = (&(objectClass=x)(cn=y)\n",
            {},
            "res_ldap.conf:2: .*not a valid",
        ),
        ("[_general]\ntimeout = soon\n", {}, "res_ldap.conf:2: timeout must be a number"),
        ("[_general]\nstarttls = maybe\n", {}, "starttls must be yes or no"),
        ("[_general]\nurl = ldaps://x\nstarttls = yes\n", {}, "needs an ldap:// url"),
        ("[_general]\ncafile = /nonexistent/ca.pem\n", {}, "cafile .* not a readable file"),
        ("", {"passwd": "x"}, "unknown setting 'passwd'"),
        ("", {"pool_size": "0"}, "pool_size must be at least 1"),
        ("[_general]\nurl = ldap://127.0.0.1:abc\n", {}, "res_ldap.conf:2: url: the port must"),
        ("[_general]\nurl = ldap://h:99999\n", {}, "res_ldap.conf:2: url: the port must"),
        ("[_general]\nhost = 127.0.0.1:389\n", {}, "res_ldap.conf:2: host: .* not host"),
        ("[_general]\nhost = h\nport = 0\n", {}, "port must be at least 1"),
    ],
)
def test_bad_settings_name_file_and_line(
    tmp_path: Path, text: str, code: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        read_settings("dc=x", code, _conf(tmp_path, text))


@pytest.mark.parametrize(
    "url",
    [
        "ldap://asterisk:s3cretPW@127.0.0.1:1",
        "ldap://127.0.0.2 ldaps://asterisk:s3cretPW@127.0.0.1:1",
        "ldap://asterisk:s3c,retPW@127.0.0.1:1",  # a comma in the password: still one URL
        "ldap://asterisk:s3c,,retPW@127.0.0.1:1",
        "ldap://asterisk:s3c/retPW@127.0.0.1:1",
    ],
)
@pytest.mark.parametrize("key", ["url", "write_url", "host"])
def test_credentials_in_a_url_are_refused_without_showing_them(
    tmp_path: Path, key: str, url: str
) -> None:
    if key == "host":
        url = url.rpartition("//")[2]
    with pytest.raises(ConfigError) as info:
        read_settings("dc=x", {}, _conf(tmp_path, f"[_general]\n{key} = {url}\n"))
    assert str(info.value).startswith(f"{tmp_path / 'res_ldap.conf'}:2: {key}: credentials")
    assert "s3c" not in str(info.value)
    assert "asterisk" not in str(info.value)


def test_a_url_with_a_path_is_named_whole() -> None:
    with pytest.raises(ConfigError) as info:
        read_settings("dc=x", {"url": "ldap://h:1/dc=example,dc=org"}, None)
    assert "url: 'ldap://h:1/dc=example,dc=org' is not ldap://host[:port]" in str(info.value)
    assert "base DN" in str(info.value)
    with pytest.raises(ConfigError, match=r"'ldap://h:1/dc=example, dc=org' is not ldap://"):
        read_settings("dc=x", {"url": "ldap://g ldap://h:1/dc=example, dc=org"}, None)


@pytest.mark.parametrize(
    "url", ["ldap://a, ,ldap://b", "ldap://a,,ldap://b", "ldap://a,", ", ldap://a", ","]
)
def test_an_empty_entry_in_a_url_list_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="res_ldap.conf:2: url has an empty entry"):
        read_settings("dc=x", {}, _conf(tmp_path, f"[_general]\nurl = {url}\n"))
    assert read_settings("dc=x", {"url": " ldap://a ,  ldap://b "}, None).urls == (
        "ldap://a",
        "ldap://b",
    )


def test_base_dn_from_extconfig() -> None:
    assert base_dn('"ou=sip,dc=example,dc=org"') == "ou=sip,dc=example,dc=org"
    assert base_dn("ou=sip|dc=example|dc=org") == "ou=sip,dc=example,dc=org"
    assert base_dn("dc=example,dc=org") == "dc=example,dc=org"
    # an empty extconfig database falls back to basedn; neither is a ConfigError
    assert LdapConnection.open("", {"basedn": "dc=example,dc=org"}, None).base == (
        "dc=example,dc=org"
    )
    with pytest.raises(ConfigError, match="no basedn"):
        LdapConnection.open("", {}, None)


def test_the_package_needs_no_sql() -> None:
    """Installing ara-ldap pulls ara-realtime (no extra), ldap3 and pyasn1 (which ldap3 needs
    too; the change feed uses it directly); importing it loads no SQL."""
    requires = metadata.requires("ara-ldap") or []
    runtime = [r for r in requires if "extra ==" not in r]
    assert sorted(r.split(">")[0].split("<")[0].split("[")[0] for r in runtime) == [
        "ara-realtime",
        "ldap3",
        "pyasn1",
    ], runtime
    assert all("[" not in r for r in runtime), "ara-realtime must be required without extras"
    core = [r for r in metadata.requires("ara-realtime") or [] if "extra ==" not in r]
    assert not any("sqlalchemy" in r.lower() for r in core), core
    code = (
        "import sys, ara_ldap.driver, ara_ldap.config, ara_ldap.pool, ara_ldap.changes;"
        "bad = [m for m in sys.modules if m.startswith(('ara_realtime.sql', 'sqlalchemy',"
        " 'psycopg', 'MySQLdb', 'pymysql'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
