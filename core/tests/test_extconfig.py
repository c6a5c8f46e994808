"""extconfig.conf syntax: fields, quoting, static files, aliases, and errors with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ara_realtime import ConfigError, Mapping, Realtime
from ara_realtime.extconfig import load_extconfig, parse_mapping


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "extconfig.conf"
    path.write_text("[settings]\n" + body)
    return path


def test_fields_are_trimmed_and_defaults_applied(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "sippeers => odbc, asterisk ,  peers , 2\nvoicemail = pgsql,general\n"
        "sippeers => sqlite3,local\n",
    )
    maps = load_extconfig(path)
    assert [(m.name, m.driver, m.database, m.table, m.priority, m.line) for m in maps] == [
        ("sippeers", "odbc", "asterisk", "peers", 2, 2),
        ("voicemail", "pgsql", "general", "voicemail", 1, 3),
        ("sippeers", "sqlite3", "local", "sippeers", 1, 4),
    ]
    assert maps[0].file == str(path)


def test_quoted_ldap_dn(tmp_path: Path) -> None:
    maps = load_extconfig(
        _write(
            tmp_path,
            'sippeers => ldap,"dc=example,dc=org",sip\n'
            'queues => ldap, "ou=q,dc=example,dc=org" , queues, 1\n'
            'sipusers => ldap,"dc=x"\n',
        )
    )
    assert [(m.database, m.table, m.priority) for m in maps] == [
        ("dc=example,dc=org", "sip", 1),
        ("ou=q,dc=example,dc=org", "queues", 1),
        ("dc=x", "sipusers", 1),
    ]


def test_static_files_and_global() -> None:
    (m,) = parse_mapping("extensions.conf", "odbc,asterisk,ast_config")
    assert m.is_static and m.table == "ast_config"
    (g,) = parse_mapping("global", "pgsql,asterisk,ast_config")
    assert g.is_static
    (d,) = parse_mapping("queues.conf", "sqlite3,pbx")
    assert d.table == "queues.conf"
    assert not parse_mapping("sippeers", "odbc,x")[0].is_static


def test_iaxfriends_alias(caplog: pytest.LogCaptureFixture) -> None:
    maps = parse_mapping("iaxfriends", "odbc,asterisk", "extconfig.conf", 7)
    assert [(m.name, m.table) for m in maps] == [
        ("iaxusers", "iaxfriends"),
        ("iaxpeers", "iaxfriends"),
    ]
    assert "deprecated" in caplog.text
    assert [m.table for m in parse_mapping("iaxfriends", "odbc,asterisk,iax")] == ["iax", "iax"]


@pytest.mark.parametrize("name", ["extconfig.conf", "asterisk.conf", "logger.conf"])
def test_forbidden_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_extconfig(_write(tmp_path, f"\n{name} => odbc,asterisk\n"))
    assert str(info.value).startswith(f"{tmp_path / 'extconfig.conf'}:3: ")
    assert name in str(info.value)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("sippeers => odbc", "expected driver,database"),
        ("sippeers => odbc,db,t,x", "priority must be a whole number"),
        ("sippeers => odbc,db,t,0", "priority must be 1 or more"),
        ("sippeers => odbc,db,t,1,extra", "too many fields"),
        ('sippeers => ldap,"dc=x', "unterminated quote"),
        ("sippeers => ,db", "empty driver"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_extconfig(_write(tmp_path, f"; comment\n{line}\n"))
    assert info.value.line == 3 and info.value.file == str(tmp_path / "extconfig.conf")


def test_same_priority_twice_names_both_lines(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_extconfig(_write(tmp_path, "sippeers => odbc,a\nSIPPEERS => pgsql,b,sippeers,1\n"))
    text = str(info.value)
    assert "extconfig.conf:2" in text and "extconfig.conf:3" in text and "priority 1" in text


def test_priority_gap_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no priority 2"):
        load_extconfig(_write(tmp_path, "q => odbc,a,q,1\nq => odbc,b,q,3\n"))


def test_only_settings_is_read(tmp_path: Path) -> None:
    path = tmp_path / "extconfig.conf"
    path.write_text("[other]\nsippeers => odbc,a\n[settings]\nqueues => odbc,b\n")
    assert [m.name for m in load_extconfig(path)] == ["queues"]


def test_missing_extconfig(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="extconfig.conf"):
        Realtime.from_config_dir(tmp_path)


def test_mappings_in_code() -> None:
    rt = Realtime({"sippeers": ["sqlite3,a,peers,1", "memory,b,peers,2"], "voicemail": "memory,b"})
    assert [(m.name, m.driver, m.priority) for m in rt.mappings] == [
        ("sippeers", "sqlite3", 1),
        ("sippeers", "memory", 2),
        ("voicemail", "memory", 1),
    ]
    assert Realtime([Mapping("x", "memory", "db", "t")]).is_mapped("X")
    with pytest.raises(ConfigError, match="twice"):
        Realtime({"a": ["memory,x", "memory,y"]})


def test_reload_keeps_old_mappings_when_the_new_file_is_bad(pbx_dir: Path) -> None:
    rt = Realtime.from_config_dir(pbx_dir)
    assert rt.load("sippeers", name="alice") is not None
    ext = pbx_dir / "extconfig.conf"
    ext.write_text(ext.read_text() + "broken line without arrow or comma\nbad => x\n")
    with pytest.raises(ConfigError, match="bad"):
        rt.reload()
    assert rt.load("sippeers", name="alice") is not None
    ext.write_text("[settings]\nvm => sqlite3,pbx,voicemail\n")
    rt.reload()
    assert not rt.is_mapped("sippeers")
    vm = rt.load("vm", mailbox="1001")
    assert vm is not None and vm["fullname"] == "Alice Liddell"
    rt.close()


def test_repr_shows_no_secrets(tmp_path: Path) -> None:
    rt = Realtime({"p": "sqlite3,s"}, {"sqlite3": {"s": {"dbfile": "x.db", "password": "hunter2"}}})
    assert "hunter2" not in repr(rt)
    assert "hunter2" not in repr(rt._backends)


@pytest.mark.parametrize("table", ["a b", "a.b.c", "-lead", "t*", "x)"])
def test_an_invalid_table_name_is_refused_once_in_the_mapping(tmp_path: Path, table: str) -> None:
    (tmp_path / "extconfig.conf").write_text(
        f"[settings]\nok => sqlite3,db,peers\nbad => sqlite3,db,{table}\n"
    )
    with pytest.raises(ConfigError, match=r"extconfig\.conf:3: mapping 'bad': invalid table name"):
        load_extconfig(tmp_path / "extconfig.conf")
    with pytest.raises(ConfigError, match="mapping 'bad': invalid table name"):
        Realtime([Mapping("bad", "sqlite3", "db", table)])


@pytest.mark.parametrize("table", ["x;drop table y", 't"', "a'b", ""])
def test_an_invalid_table_name_given_in_code_is_refused(table: str) -> None:
    with pytest.raises(ConfigError, match="mapping 'bad': invalid table name"):
        Realtime([Mapping("bad", "sqlite3", "db", table)])
