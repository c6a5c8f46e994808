"""The table definitions, their DDL per dialect, and create/check through mappings (sqlite3,
memory; PostgreSQL and MariaDB are in test_schema_servers.py)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from ara_realtime import RQ, Config, ConfigError, NotSupported, Realtime, Requirement
from ara_realtime.drivers import memory
from ara_realtime.hookspecs import hookimpl
from ara_realtime.plugins import Plugins
from ara_realtime.schema import FAMILIES, STATIC, table_for, tables_for
from ara_realtime.schema.ddl import SQL_DIALECTS, render
from ara_realtime.schema.ldap import attribute_name, class_name
from ara_realtime.schema.live import check, create, requirements_of
from ara_realtime.schema.requirements import REQUIREMENTS

#: Column counts of Asterisk's tables after every alembic script (its generated SQL replayed).
COLUMNS = {
    "sippeers": 89,
    "iaxfriends": 46,
    "voicemail": 34,
    "voicemessages": 12,
    "extensions": 6,
    "meetme": 12,
    "queues": 56,
    "queue_members": 10,
    "queue_rules": 4,
    "queue_log": 11,
    "musiconhold": 9,
    "musiconhold_entry": 3,
    "ps_endpoints": 147,
    "ps_auths": 13,
    "ps_aors": 16,
    "ps_contacts": 16,
    "ps_domain_aliases": 2,
    "ps_endpoint_id_ips": 6,
    "ps_registrations": 22,
    "ps_transports": 28,
    "ps_globals": 29,
    "ps_systems": 17,
    "ps_subscription_persistence": 14,
    "ps_resource_list": 6,
    "ps_outbound_publishes": 14,
    "ps_inbound_publications": 4,
    "ps_asterisk_publications": 7,
    "stir_tn": 5,
    "sipregs": 10,
    "ast_config": 8,
}


def test_every_family_is_defined_with_asterisks_column_count() -> None:
    assert {name: len(t.columns) for name, t in FAMILIES.items()} == COLUMNS


def test_names_that_need_quoting_survive() -> None:
    assert "100rel" in FAMILIES["ps_endpoints"].columns
    assert {"@body", "@context", "@exten"} <= set(FAMILIES["ps_outbound_publishes"].columns.keys())
    assert "session-timers" in FAMILIES["sippeers"].columns
    assert "event_asterisk-mwi" in FAMILIES["ps_inbound_publications"].columns


def test_table_for_resolves_aliases_and_static_names() -> None:
    assert table_for("iaxpeers") is FAMILIES["iaxfriends"]
    assert table_for("Extensions.conf").name == STATIC
    assert table_for("global").name == STATIC
    with pytest.raises(ConfigError, match="no table definition for 'nosuch'; known families"):
        table_for("nosuch")


def test_postgresql_sippeers_has_asterisks_columns_and_enum_types() -> None:
    ddl = render(["sippeers"], "postgresql")
    assert "CREATE TYPE yes_no_values AS ENUM ('yes', 'no');" in ddl
    assert "CREATE TYPE type_values AS ENUM ('friend', 'user', 'peer');" in ddl
    assert (
        "CREATE TYPE sip_transport_values AS ENUM "
        "('udp', 'tcp', 'tls', 'ws', 'wss', 'udp,tcp', 'tcp,udp');" in ddl
    )
    table = ddl[ddl.index("CREATE TABLE sippeers") :]
    assert "\tid SERIAL NOT NULL" in table
    assert "\tname VARCHAR(40) NOT NULL" in table
    assert "\ttrustrpid yes_no_values" in table
    assert '\t"session-timers" sip_session_timers_values' in table
    assert '\t"call-limit" INTEGER' in table
    assert "UNIQUE (name)" in table
    assert "CREATE INDEX sippeers_name_host ON sippeers (name, host);" in ddl
    columns = re.findall(r"^\t(\"[^\"]+\"|\S+) ", table.split(";")[0], re.M)
    names = [c.strip('"') for c in columns if c not in ("PRIMARY", "UNIQUE")]
    assert names == list(FAMILIES["sippeers"].columns.keys())


def test_each_enum_type_is_created_once_per_run() -> None:
    ddl = render([], "postgresql")  # every family
    created = re.findall(r"CREATE TYPE (\w+) AS ENUM", ddl)
    assert len(created) == len(set(created)) == 35
    assert "yesno_values" in created and "yes_no_values" in created


def test_mysql_inline_enums_and_queue_members_auto_increment() -> None:
    ddl = render(["queue_members", "ps_outbound_publishes", "voicemessages"], "mysql")
    assert "ringinuse ENUM('0','1','off','on','false','true','no','yes')" in ddl
    assert "ALTER TABLE queue_members MODIFY uniqueid INTEGER NOT NULL AUTO_INCREMENT;" in ddl
    assert "`@body` VARCHAR(40)" in ddl
    assert "recording LONGBLOB" in ddl
    assert "AUTO_INCREMENT" not in render(["queue_members"], "postgresql")


@pytest.mark.parametrize("dialect", sorted(SQL_DIALECTS))
def test_every_family_renders(dialect: str) -> None:
    ddl = render([], dialect)
    assert ddl.count("CREATE TABLE ") == len(FAMILIES)


def test_sqlite_ddl_runs() -> None:
    conn = sqlite3.connect(":memory:")
    conn.executescript(render([], "sqlite"))
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == set(FAMILIES)


def test_renamed_tables_and_foreign_keys() -> None:
    ddl = render({"musiconhold": "moh", "musiconhold_entry": "moh_entry"}, "postgresql")
    assert "CREATE TABLE moh (" in ddl
    assert "REFERENCES moh (name)" in ddl
    md, tables = tables_for({"musiconhold_entry": "entries"}, {"musiconhold": "classes"})
    assert [t.name for t in tables] == ["entries"]
    assert sorted(md.tables) == ["classes", "entries"]  # a stub, not created


def test_unknown_dialect() -> None:
    with pytest.raises(ConfigError, match="unknown dialect 'oracle'; use one of postgresql"):
        render(["sippeers"], "oracle")


# -- create and check through mappings --------------------------------------------------------


@pytest.fixture
def sqlite_rt(tmp_path: Path, plugins: Plugins) -> Realtime:
    (tmp_path / "res_config_sqlite3.conf").write_text("[pbx]\ndbfile = pbx.db\n")
    (tmp_path / "extconfig.conf").write_text(
        "[settings]\n"
        "sippeers => sqlite3,pbx,sip_peers\n"
        "iaxfriends => sqlite3,pbx\n"
        "voicemail => sqlite3,pbx\n"
        "queue_members => sqlite3,pbx\n"
        "queue_log => sqlite3,pbx\n"
        "meetme => sqlite3,pbx\n"
        "musiconhold => sqlite3,pbx,moh\n"
        "musiconhold_entry => sqlite3,pbx\n"
        "extensions.conf => sqlite3,pbx,ast_config\n"
    )
    return Realtime.from_config_dir(tmp_path, plugins=plugins)


def test_create_then_check_and_require_on_sqlite(sqlite_rt: Realtime, tmp_path: Path) -> None:
    families = [
        "sippeers",
        "iaxfriends",
        "voicemail",
        "queue_members",
        "queue_log",
        "meetme",
        "musiconhold",
        "musiconhold_entry",
        "extensions.conf",
    ]
    done = create(sqlite_rt, families)
    assert [(o.table, o.action) for o in done] == [
        ("sip_peers", "created"),
        ("iaxfriends", "created"),  # once, though iaxfriends maps iaxusers and iaxpeers
        ("voicemail", "created"),
        ("queue_members", "created"),
        ("queue_log", "created"),
        ("meetme", "created"),
        ("moh", "created"),
        ("musiconhold_entry", "created"),
        ("ast_config", "created"),
    ]
    assert check(sqlite_rt, families) == []
    conn = sqlite3.connect(tmp_path / "pbx.db")
    fk = conn.execute("PRAGMA foreign_key_list(musiconhold_entry)").fetchall()
    assert [(r[2], r[3], r[4]) for r in fk] == [("moh", "name", "name")]
    for family, columns in REQUIREMENTS.items():
        if family != "sipregs":
            assert sqlite_rt.require(family, dict(columns)), family
    # again: nothing to do
    assert {o.action for o in create(sqlite_rt, families)} == {"exists"}
    sqlite_rt.close()


def test_check_reports_what_differs(sqlite_rt: Realtime, tmp_path: Path) -> None:
    create(sqlite_rt, ["voicemail"])
    conn = sqlite3.connect(tmp_path / "pbx.db")
    conn.executescript(
        "ALTER TABLE voicemail ADD COLUMN nickname VARCHAR(20);"
        "ALTER TABLE voicemail DROP COLUMN pager;"
        "DROP INDEX voicemail_imapuser;"
    )
    conn.close()
    found = sorted(str(d) for d in check(sqlite_rt, ["voicemail", "queue_log"]))
    assert found == [
        "sqlite3:pbx: queue_log (queue_log): the table does not exist",
        "sqlite3:pbx: voicemail.nickname (voicemail): column not in the definition (VARCHAR(20))",
        "sqlite3:pbx: voicemail.pager (voicemail): column missing (VARCHAR(80))",
        "sqlite3:pbx: voicemail.voicemail_imapuser (voicemail): index on (imapuser) missing",
    ]
    sqlite_rt.close()


def test_families_must_be_mapped_and_known(sqlite_rt: Realtime) -> None:
    with pytest.raises(ConfigError, match="family 'queues' is not mapped in extconfig.conf"):
        create(sqlite_rt, ["sippeers", "queues"])
    with pytest.raises(ConfigError, match="no table definition for 'acls'"):
        check(sqlite_rt, ["acls"])
    with pytest.raises(ConfigError, match="name at least one family"):
        create(sqlite_rt, [])
    sqlite_rt.close()


def test_memory_tables_are_created_through_require(plugins: Plugins) -> None:
    rt = Realtime({"ps_endpoints": "memory,schema-test"}, plugins=plugins)
    try:
        done = create(rt, ["ps_endpoints"])
        assert [(o.table, o.action) for o in done] == [("ps_endpoints", "created by require")]
        assert rt.store("ps_endpoints", {"id": "1101", "100rel": "yes", "context": "x"}) == 1
        assert rt.load("ps_endpoints", id="1101") == {"id": "1101", "context": "x", "100rel": "yes"}
        with pytest.raises(NotSupported, match="no SQL catalogue to compare with"):
            check(rt, ["ps_endpoints"])
    finally:
        rt.close()
        memory.reset("schema-test")


class _NoDDL:
    """A driver that has neither SQL nor a creating require."""

    @hookimpl
    def ara_connect(self, database: str, settings: object, config_dir: object) -> object:
        return object()


def test_a_driver_without_ddl_is_not_supported() -> None:
    plugins = Plugins()
    plugins.add_driver("noddl", _NoDDL())
    rt = Realtime({"queues": "noddl,x"}, plugins=plugins)
    with pytest.raises(NotSupported, match="can neither run DDL nor create tables"):
        create(rt, ["queues"])


def test_requirements_of_follow_the_column_types() -> None:
    reqs = requirements_of(FAMILIES["queue_members"])
    assert reqs["queue_name"] == Requirement(RQ.CHAR, 80)
    assert reqs["ringinuse"] == Requirement(RQ.CHAR, len("false"))
    assert reqs["uniqueid"] == Requirement(RQ.INTEGER4, 11)


# -- the LDAP rendering -------------------------------------------------------------------------


def test_ldap_names_and_object_identifiers_are_unique() -> None:
    assert attribute_name("sippeers", "session-timers") == "araSippeersSessionTimers"
    assert attribute_name("ps_endpoints", "100rel") == "araPsEndpoints100rel"
    assert attribute_name("ps_outbound_publishes", "@body") == "araPsOutboundPublishesAtBody"
    assert class_name("ps_endpoint_id_ips") == "araPsEndpointIdIps"
    text = render([], "ldap")
    names = re.findall(r"NAME '([^']+)'", text.replace("\n ", ""))
    oids = re.findall(r"\( ([0-9.]+) NAME", text.replace("\n ", ""))
    columns = sum(len(t.columns) for t in FAMILIES.values())
    assert len(names) == len(oids) == columns + len(FAMILIES)
    assert len({n.lower() for n in names}) == len(names)
    assert len(set(oids)) == len(oids)
    assert all(len(line) <= 76 for line in text.splitlines())


def test_ldap_schema_of_one_family_and_its_res_ldap_section() -> None:
    text = render(["queue_members"], "ldap")
    entry = text.replace("\n ", "")
    assert "dn: cn=ara-queue_members,cn=schema,cn=config\n" in entry
    assert (
        "NAME 'araQueueMembersUniqueid' DESC 'queue_members.uniqueid' EQUALITY integerMatch "
        "ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )"
    ) in entry
    assert "NAME 'araQueueMembers' DESC 'a row of queue_members' SUP top STRUCTURAL" in entry
    section = Config.from_string(render(["queue_members"], "res_ldap"))["queue_members"]
    assert section.get("interface") == "araQueueMembersInterface"
    assert section.get("additionalFilter") == "(objectClass=araQueueMembers)"
    assert [n for n, _ in section.items()][: len(FAMILIES["queue_members"].columns)] == list(
        FAMILIES["queue_members"].columns.keys()
    )
