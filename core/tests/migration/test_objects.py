"""``realtime import/export KIND``: static files' objects into rows and back, on sqlite3 (the
same on PostgreSQL and MariaDB is in test_objects_servers.py)."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from ara_realtime import BackendError, Config, ConfigError, Realtime
from ara_realtime.drivers import memory
from ara_realtime.hookspecs import hookimpl
from ara_realtime.migrate import kinds
from ara_realtime.peers import SipPeers
from ara_realtime.plugins import Plugins
from ara_realtime.schema.live import create

from .objects_support import objects

SIP_CONF = """\
[general]
context = default
allow = ulaw

[office](!)
type = friend
host = dynamic
context = office
disallow = all
allow = ulaw
setvar = DEPT=sales
TrustRPID = Yes

[alice](office)
secret = s3cret
allow = g722
callerid = "Alice" <1001>

[bob](office)
secret = b0b
host = 192.0.2.10
port = 5062
deny = 0.0.0.0/0.0.0.0
permit = 192.0.2.0/255.255.255.0

[notapeer]
something = 1
"""

ALL_FAMILIES = [
    "sippeers",
    "iaxfriends",
    "voicemail",
    "queues",
    "queue_members",
    *kinds.PJSIP_TYPES.values(),
]


@pytest.fixture
def rt(tmp_path: Path, plugins: Plugins) -> Iterator[Realtime]:
    (tmp_path / "res_config_sqlite3.conf").write_text("[asterisk]\ndbfile = pbx.db\n")
    lines = "".join(f"{f} => sqlite3,asterisk\n" for f in ALL_FAMILIES if f != "iaxfriends")
    lines += "iaxpeers => sqlite3,asterisk,iaxfriends\n"
    (tmp_path / "extconfig.conf").write_text("[settings]\n" + lines)
    r = Realtime.from_config_dir(tmp_path, plugins=plugins)
    create(r, [f if f != "iaxfriends" else "iaxpeers" for f in ALL_FAMILIES])
    yield r
    r.close()


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "src" / name
    path.parent.mkdir(exist_ok=True, parents=True)
    path.write_text(text)
    return path


def test_sip_peers_with_templates_lists_and_lines(rt: Realtime, tmp_path: Path) -> None:
    source = _file(
        tmp_path,
        "sip.conf",
        SIP_CONF.replace(
            "deny = 0.0.0.0/0.0.0.0\npermit = 192.0.2.0/255.255.255.0\n",
            "permit = 192.0.2.0/255.255.255.0\n",
        ),
    )
    plan = kinds.import_plan(rt, "sippeers", source)
    assert plan.skipped == [
        "[general]: the module's own settings; they stay in the file",
        "[notapeer]: no type=, so not a peer (the module skips it)",
    ]
    assert [str(p) for p in plan.problems] == [
        f"{source}:12: [alice]: trustrpid: written as the label 'yes'",
        f"{source}:12: [bob]: trustrpid: written as the label 'yes'",
    ]
    alice = plan.records[0].values
    assert alice == {
        "name": "alice",
        "host": "dynamic",
        "type": "friend",
        "context": "office",
        "secret": "s3cret",
        "disallow": "all",
        "allow": "ulaw,g722",  # the template's line and the peer's own: a list adds up
        "trustrpid": "yes",
        "setvar": "DEPT=sales",
        "callerid": '"Alice" <1001>',
    }
    kinds.run(rt, plan)
    assert rt.load("sippeers", name="bob") == {
        "id": "2",
        "name": "bob",
        "port": "5062",
        "host": "192.0.2.10",
        "type": "friend",
        "context": "office",
        "permit": "192.0.2.0/255.255.255.0",
        "secret": "b0b",
        "disallow": "all",
        "allow": "ulaw",
        "trustrpid": "yes",
        "setvar": "DEPT=sales",
    }
    text, problems = kinds.export(rt, "sippeers")
    assert problems == []
    assert "[alice]\nhost = dynamic\ntype = friend\n" in text
    assert "setvar = DEPT=sales\ncallerid" in text
    back = _file(tmp_path, "back.conf", text)
    assert objects("sippeers", Config.from_file(back)) == {
        k: {o: (str(v).lower() if o == "trustrpid" else v) for o, v in opts.items()}
        for k, opts in objects("sippeers", Config.from_file(source)).items()
    }
    assert [r.values for r in kinds.import_plan(rt, "sippeers", back).records] == [
        r.values for r in plan.records
    ]


def test_an_acl_in_the_wrong_order_for_the_table_stops_the_import(
    rt: Realtime, tmp_path: Path
) -> None:
    plan = kinds.import_plan(rt, "sippeers", _file(tmp_path, "sip.conf", SIP_CONF))
    [stop] = plan.blocking()
    assert str(stop).endswith(
        "[bob]: 'deny' lines come before 'permit' lines, but the table holds 'permit' first and "
        "the module applies them in that order, which changes their meaning"
    )
    with pytest.raises(ConfigError, match="1 problem"):
        kinds.run(rt, plan)
    assert rt.load_multi("sippeers", ("name !=", "")) == []


def test_unknown_options_stop_unless_dropped(rt: Realtime, tmp_path: Path) -> None:
    source = _file(
        tmp_path,
        "iax.conf",
        "[general]\nbindport = 4569\n[trunk]\ntype = peer\nhost = 192.0.2.1\n"
        "encryption = aes128\nforceencryption = yes\n",
    )
    plan = kinds.import_plan(rt, "iaxfriends", source)
    assert [(p.level, str(p)) for p in plan.problems] == [
        ("unknown", f"{source}:7: [trunk]: option 'forceencryption' has no column in iaxfriends")
    ]
    with pytest.raises(ConfigError, match="1 problem"):
        kinds.run(rt, plan)
    kinds.run(rt, plan, drop_unknown=True)
    assert rt.load("iaxpeers", name="trunk") == {
        "id": "1",
        "name": "trunk",
        "type": "peer",
        "host": "192.0.2.1",
        "encryption": "aes128",
    }


def test_values_a_column_cannot_take(rt: Realtime, tmp_path: Path) -> None:
    source = _file(
        tmp_path, "sip.conf", "[p]\ntype = buddy\nport = 50x\nqualify = " + "y" * 41 + "\n"
    )
    plan = kinds.import_plan(rt, "sippeers", source)
    assert [(p.level, p.message) for p in plan.problems] == [
        ("error", "port: the value is not a whole number"),  # in the table's column order
        ("error", "type: the value is not one of friend, user, peer (type_values)"),
        (
            "warning",
            "qualify is 41 characters long; Asterisk's column holds 40 (a table made by "
            "realtime schema refuses it on PostgreSQL and MySQL)",
        ),
    ]


def test_voicemail_mailboxes_and_options(rt: Realtime, tmp_path: Path) -> None:
    source = _file(
        tmp_path,
        "voicemail.conf",
        "[general]\nformat = wav\naliasescontext = aliases\n"
        "[zonemessages]\neastern = America/New_York|'vm-received' Q\n"
        "[aliases]\n1@x => 1@default\n"
        "[default]\n1001 => 1234,Alice,alice@example.com,,attach=yes|delete=no|tz=eastern\n"
        "1002 => 4321,Bob\n1003 => 1,Carol,,,saydurationm=2\n1002 => 9999,Bob again\n"
        "[empty]\n",
    )
    plan = kinds.import_plan(rt, "voicemail", source)
    assert plan.skipped == [
        "[general]: settings of app_voicemail; they stay in voicemail.conf",
        "[zonemessages]: settings of app_voicemail; they stay in voicemail.conf",
        "[aliases]: aliases; they stay in voicemail.conf",
        "[empty]: no mailboxes; it stays in voicemail.conf",
    ]
    assert [(p.level, str(p)) for p in plan.problems] == [
        ("unknown", f"{source}:11: [default]: option 'saydurationm' has no column in voicemail"),
        (
            "warning",
            f"{source}:12: [default]: mailbox 'default/1002' is defined again (first at "
            f"{source}:10: [default]); the last definition is kept, as the module does",
        ),
    ]
    kinds.run(rt, plan, drop_unknown=True)
    rows = rt.load_multi("voicemail", ("mailbox !=", ""))
    assert [(r["mailbox"], r["password"], r.get("fullname")) for r in rows] == [
        ("1001", "1234", "Alice"),
        ("1002", "9999", "Bob again"),
        ("1003", "1", "Carol"),
    ]
    assert rows[0]["deletevoicemail"] == "no" and rows[0]["tz"] == "eastern"
    text, problems = kinds.export(rt, "voicemail")
    assert problems == []
    assert (
        "1001 => 1234,Alice,alice@example.com,,attach=yes|tz=eastern|deletevoicemail=no\n" in text
    )
    assert "1002 => 9999,Bob again\n" in text


def test_queues_and_members_in_order(rt: Realtime, tmp_path: Path) -> None:
    source = _file(
        tmp_path,
        "queues.conf",
        "[general]\npersistentmembers = yes\n"
        "[sales]\nstrategy = linear\nmusicclass = default\nannounce-frequency = 30\n"
        "member => PJSIP/1109\nmember => PJSIP/1105,2,Jo,,no,10\nmember => PJSIP/1112\n",
    )
    plan = kinds.import_plan(rt, "queues", source)
    assert plan.problems == []
    rt.store("queue_members", {"queue_name": "other", "interface": "SIP/x", "uniqueid": "41"})
    kinds.run(rt, plan)
    assert rt.load("queues", name="sales") == {
        "name": "sales",
        "musiconhold": "default",
        "announce_frequency": "30",
        "strategy": "linear",
    }
    members = rt.load_multi("queue_members", ("uniqueid >=", "42"))
    assert [(m["interface"], m["uniqueid"]) for m in members] == [
        ("PJSIP/1109", "42"),
        ("PJSIP/1105", "43"),
        ("PJSIP/1112", "44"),
    ]
    assert members[1] == {
        "queue_name": "sales",
        "interface": "PJSIP/1105",
        "membername": "Jo",
        "penalty": "2",
        "uniqueid": "43",
        "wrapuptime": "10",
        "ringinuse": "no",
    }
    text, problems = kinds.export(rt, "queues")
    assert [str(p) for p in problems] == [
        "queue_members other/SIP/x: not written: its queue has no row in queues"
    ]
    assert text == (
        "[sales]\nmusiconhold = default\nannounce-frequency = 30\nstrategy = linear\n"
        "member => PJSIP/1109\nmember => PJSIP/1105,2,Jo,,no,10\nmember => PJSIP/1112\n"
    )


def test_existing_rows_need_replace_and_a_failure_undoes_everything(
    rt: Realtime, tmp_path: Path, plugins: Plugins
) -> None:
    source = _file(
        tmp_path,
        "sip.conf",
        "[a]\ntype = peer\nhost = 192.0.2.1\n[b]\ntype = peer\nhost = 192.0.2.2\n",
    )
    rt.store("sippeers", {"name": "a", "host": "old", "type": "user"})
    plan = kinds.import_plan(rt, "sippeers", source)
    with pytest.raises(
        ConfigError, match="1 row.* already exist: sippeers a; replace them with --replace"
    ):
        kinds.run(rt, plan)
    before = rt.load_multi("sippeers", ("name !=", ""))

    class FailSecond:
        stores = 0

        @hookimpl(wrapper=True)
        def ara_store(self) -> Generator[None, object, object]:
            FailSecond.stores += 1
            if FailSecond.stores == 2:
                raise BackendError("injected: gone")
            return (yield)

    plugins.add_plugin(FailSecond(), name="fail")
    outcome = kinds.Outcome()
    with pytest.raises(BackendError) as failed:
        kinds.run(rt, plan, replace=True, outcome=outcome)
    assert str(failed.value) == (
        f"{source}:4: [b]: storing sippeers b: store on 'sippeers' failed on every backend: "
        "sqlite3:asterisk: injected: gone; nothing was imported (the 1 "
        "row(s) written were deleted and the 1 replaced row(s) stored again): the tables are "
        "as they were"
    )
    assert (outcome.failed_at, outcome.restored, outcome.stored) == (f"{source}:4: [b]", True, {})
    plugins.remove_plugin("fail")
    assert rt.load_multi("sippeers", ("name !=", "")) == before  # the replaced row is back
    kinds.run(rt, plan, replace=True)
    assert [(r["name"], r["host"]) for r in rt.load_multi("sippeers", ("name !=", ""))] == [
        ("a", "192.0.2.1"),
        ("b", "192.0.2.2"),
    ]


def test_unmapped_families_and_unknown_kinds(tmp_path: Path, plugins: Plugins) -> None:
    (tmp_path / "res_config_sqlite3.conf").write_text("[asterisk]\ndbfile = pbx.db\n")
    (tmp_path / "extconfig.conf").write_text("[settings]\nps_endpoints => sqlite3,asterisk\n")
    with Realtime.from_config_dir(tmp_path, plugins=plugins) as rt:
        source = _file(
            tmp_path,
            "pjsip.conf",
            "[t]\ntype = transport\nprotocol = udp\n[t2]\ntype = transport\n"
            "[e]\ntype = endpoint\n[x]\ntype = phoneprov\n",
        )
        plan = kinds.import_plan(rt, "pjsip", source)
        assert plan.skipped == [
            "[x]: type=phoneprov has no realtime table; it stays in pjsip.conf",
            # sorcery.conf sends only some types to realtime: the rest stays in pjsip.conf
            "[t], [t2]: family 'ps_transports' is not mapped in extconfig.conf; they stay in "
            "pjsip.conf",
        ]
        assert [r.values for r in plan.records] == [{"id": "e"}]
        assert plan.problems == []
        voicemail = _file(tmp_path, "voicemail.conf", "[default]\n1 => 1\n")
        [problem] = kinds.import_plan(rt, "voicemail", voicemail).blocking()
        assert problem.message == "family 'voicemail' is not mapped in extconfig.conf"
        with pytest.raises(
            ConfigError, match="unknown kind 'sip'; use one of sippeers, iaxfriends"
        ):
            kinds.import_plan(rt, "sip", source)


SET_VAR = "[e]\ntype = endpoint\ncontext = x\nset_var = A=1\nset_var = B=2\n"


def test_several_lines_of_one_option_follow_how_the_storage_reads_semicolons(
    rt: Realtime, tmp_path: Path, plugins: Plugins
) -> None:
    """Joined with ';', several set_var lines come back as lines only where Asterisk's driver
    splits a column on a raw ';' (the same on PostgreSQL, MariaDB and LDAP is in
    test_objects_servers.py)."""
    source = _file(tmp_path, "pjsip.conf", SET_VAR)
    literal = _file(tmp_path, "literal.conf", "[e]\ntype = endpoint\nset_var = A=1\\;2\n")
    # Asterisk's sqlite3 driver never splits: two lines in one column would read as one
    plan = kinds.import_plan(rt, "pjsip", source)
    assert [str(p) for p in plan.blocking()] == [
        f"{source}:5: [e]: 'set_var' is given 2 times (lines 4, 5): joined with ';' into one "
        "column, Asterisk's sqlite3 driver never splits it, so it would read one value; give "
        "the option once, or keep this object in its file"
    ]
    with pytest.raises(ConfigError, match="1 problem"):
        kinds.run(rt, plan)
    assert rt.load_multi("ps_endpoints", ("id !=", "")) == []
    plan = kinds.import_plan(rt, "pjsip", literal)  # ... and a literal ';' reads back whole
    assert plan.problems == []
    kinds.run(rt, plan)
    assert rt.load("ps_endpoints", id="e") == {"id": "e", "set_var": "A=1;2"}
    text, _ = kinds.export(rt, "pjsip")
    assert "set_var = A=1\\;2\n" in text  # one line, as Asterisk reads it
    # a driver Asterisk does not have follows the historic contract: ';' separates values
    mem = Realtime({"ps_endpoints": "memory,objects-set-var"}, plugins=plugins)
    try:
        create(mem, ["ps_endpoints"])
        plan = kinds.import_plan(mem, "pjsip", source)
        assert plan.problems == []
        kinds.run(mem, plan)
        assert mem.load("ps_endpoints", id="e") == {"id": "e", "context": "x", "set_var": "A=1;B=2"}
        text, _ = kinds.export(mem, "pjsip")
        assert "set_var = A=1\nset_var = B=2\n" in text
        [problem] = kinds.import_plan(mem, "pjsip", literal).blocking()
        assert problem.message == (
            "set_var: the value holds ';', on which Asterisk's memory driver splits a column "
            "when ';' is stored as it is (memory:objects-set-var), so it would read several "
            "values; take the ';' out, or keep this object in its file"
        )
    finally:
        mem.close()
        memory.reset("objects-set-var")


def test_sipregs_rows_are_made_for_imported_peers(tmp_path: Path, plugins: Plugins) -> None:
    """chan_sip only updates sipregs rows: with sipregs mapped to a table of its own, the
    import gives each peer one (keeping one already there, which holds its registration)."""
    (tmp_path / "res_config_sqlite3.conf").write_text("[asterisk]\ndbfile = pbx.db\n")
    (tmp_path / "extconfig.conf").write_text(
        "[settings]\nsippeers => sqlite3,asterisk\nsipregs => sqlite3,asterisk\n"
    )
    source = _file(tmp_path, "sip.conf", "[alice]\ntype = friend\n[bob]\ntype = friend\n")
    with Realtime.from_config_dir(tmp_path, plugins=plugins) as rt:
        create(rt, ["sippeers", "sipregs"])
        rt.store("sipregs", {"name": "alice", "ipaddr": "192.0.2.1", "port": "5060"})
        plan = kinds.import_plan(rt, "sippeers", source)
        assert [(r.family, r.values) for r in plan.records] == [
            ("sippeers", {"name": "alice", "type": "friend"}),
            ("sippeers", {"name": "bob", "type": "friend"}),
            ("sipregs", {"name": "alice"}),
            ("sipregs", {"name": "bob"}),
        ]
        outcome = kinds.run(rt, plan)
        assert (outcome.stored, outcome.kept) == ({"sippeers": 2, "sipregs": 1}, {"sipregs": 1})
        assert [(r["name"], r.get("ipaddr")) for r in rt.load_multi("sipregs", ("id >", "0"))] == [
            ("alice", "192.0.2.1"),
            ("bob", None),
        ]
        assert SipPeers(rt).register("bob", "192.0.2.2", 5060, expiry=60) == 1
        kinds.run(rt, kinds.import_plan(rt, "sippeers", source), replace=True)  # kept again
        assert rt.load("sipregs", name="bob")["ipaddr"] == "192.0.2.2"  # type: ignore[index]
    # sipregs mapped onto the sippeers table itself: the peer's row is its registration row
    (tmp_path / "extconfig.conf").write_text(
        "[settings]\nsippeers => sqlite3,asterisk\nsipregs => sqlite3,asterisk,sippeers\n"
    )
    with Realtime.from_config_dir(tmp_path, plugins=plugins) as rt:
        assert {r.family for r in kinds.import_plan(rt, "sippeers", source).records} == {"sippeers"}
