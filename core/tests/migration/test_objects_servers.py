"""The corpus's pjsip.conf, voicemail.conf and queues.conf samples (and a sip.conf: chan_sip,
and with it sip.conf.sample, left Asterisk in version 21, before the corpus was taken) go in
as rows and come back as the same objects with the same options, on sqlite3, PostgreSQL,
MariaDB and LDAP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ara_realtime import Config
from ara_realtime.cli import main
from ara_realtime.migrate import kinds
from ara_realtime.migrate.objects import ObjectPlan

from .conftest import DB, Backend
from .objects_support import objects

SIP_CONF = """\
[general]
context = public
allowguest = no

[phones](!)
type = friend
host = dynamic
context = internal
disallow = all
allow = ulaw,alaw
dtmfmode = rfc2833
qualify = yes

[1101](phones)
secret = tw0-one
callerid = "Maria Berny" <1101>
mailbox = 1101@example

[1102](phones)
secret = tw0-two
allow = g722
setvar = CHANNEL(language)=de

[provider]
type = peer
host = sip.example.net
port = 5080
fromdomain = example.net
insecure = port,invite
"""

#: kind -> the corpus file (or the text above) and the number of rows it gives
SAMPLES = {
    "pjsip": ("asterisk-basic-pbx/pjsip.conf", 52),
    "voicemail": ("asterisk-basic-pbx/voicemail.conf", 15),
    "queues": ("asterisk-basic-pbx/queues.conf", 8),
    "voicemail-sample": ("asterisk-conf-samples/voicemail.conf.sample", 3),
    "iaxfriends": ("asterisk-conf-samples/iax.conf.sample", 1),
    "sippeers": (None, 3),
}

_FAMILIES = [
    "sippeers",
    "iaxpeers",
    "voicemail",
    "queues",
    "queue_members",
    *kinds.PJSIP_TYPES.values(),
]


def test_import_then_export_gives_the_same_objects(
    backend: Backend, asterisk_corpus: Path, tmp_path: Path
) -> None:
    extconfig = "".join(f"{f} => DRIVER,{DB}\n" for f in _FAMILIES if f != "iaxpeers")
    rt = backend.realtime(extconfig + f"iaxpeers => DRIVER,{DB},iaxfriends\n")
    backend.create(rt, _FAMILIES)
    for sample, (rel, count) in SAMPLES.items():
        kind = sample.split("-")[0]
        if rel is None:
            source = tmp_path / "sip.conf"
            source.write_text(SIP_CONF)
        else:
            source = asterisk_corpus / rel
        plan = kinds.import_plan(rt, kind, source)
        assert plan.blocking() == [], sample
        assert len(plan.records) == count, sample
        kinds.run(rt, plan)
        text, problems = kinds.export(rt, kind)
        assert problems == [], sample
        back = tmp_path / f"exported-{sample}.conf"
        back.write_text(text)
        assert objects(kind, Config.from_file(back)) == objects(kind, Config.from_file(source))
        again = kinds.import_plan(rt, kind, back)
        assert _rows(again) == _rows(plan), sample
        for r in plan.records:  # the next sample starts from empty tables
            extra = zip(r.key[1:], r.key_values[1:])
            assert rt.destroy(r.family, r.key[0], r.key_values[0], *extra) == 1


def _rows(plan: ObjectPlan) -> list[tuple[object, ...]]:
    # uniqueid numbers queue members as they are written: the first run filled them in
    return sorted(
        (r.family, r.key_values, sorted((c, v) for c, v in r.values.items() if c != "uniqueid"))
        for r in plan.records
    )


SET_VAR = "[e]\ntype = endpoint\ncontext = x\nset_var = A=1\nset_var = B=2\n"
SECRET = "[a]\ntype = auth\nusername = u\npassword = ab\\;cd\n"


@pytest.mark.parametrize("driver", ["pgsql", "mysql"])
@pytest.mark.parametrize("codec", ["yes", "no"])
def test_set_var_lines_and_semicolons_as_asterisk_reads_them(
    backend: Backend, tmp_path: Path, codec: str
) -> None:
    """Asterisk's pgsql and mysql drivers split a column on a raw ';' before undoing '^3B':
    several lines joined with ';' need the codec off, a literal ';' needs it on."""
    if codec == "no":
        backend.setting("codec", "no")
    rt = backend.realtime(f"ps_endpoints => DRIVER,{DB}\nps_auths => DRIVER,{DB}\n")
    backend.create(rt, ["ps_endpoints", "ps_auths"])
    lines, secret = tmp_path / "lines.conf", tmp_path / "secret.conf"
    lines.write_text(SET_VAR)
    secret.write_text(SECRET)
    database = f"{backend.driver}:{DB}"
    conf = {"pgsql": "res_pgsql.conf", "mysql": "res_config_mysql.conf"}[backend.driver]
    if codec == "yes":
        [problem] = kinds.import_plan(rt, "pjsip", lines).blocking()
        assert str(problem) == (
            f"{lines}:5: [e]: 'set_var' is given 2 times (lines 4, 5): joined with ';' into one "
            f"column, {database} stores ';' as '^3B' (codec = yes), which Asterisk decodes only "
            "after splitting, so it would read one value; give the option once, or set codec = "
            f"no for database '{DB}' in {conf} when no value stored there holds a literal ';'"
        )
        kinds.run(rt, kinds.import_plan(rt, "pjsip", secret))
        assert backend.sql("SELECT password FROM ps_auths").strip() == "ab^3Bcd"
        assert rt.load("ps_auths", id="a") == {"id": "a", "username": "u", "password": "ab;cd"}
        return
    kinds.run(rt, kinds.import_plan(rt, "pjsip", lines))
    assert backend.sql("SELECT set_var FROM ps_endpoints").strip() == "A=1;B=2"  # raw ';'
    text, _ = kinds.export(rt, "pjsip")
    assert "set_var = A=1\nset_var = B=2\n" in text
    [problem] = kinds.import_plan(rt, "pjsip", secret).blocking()
    assert str(problem) == (
        f"{secret}:4: [a]: password: the value holds ';', on which Asterisk's "
        f"{backend.driver} driver splits a column when ';' is stored as it is ({database}), "
        f"so it would read several values; set codec = yes for database '{DB}' in {conf}, "
        "the default"
    )


@pytest.mark.parametrize("driver", ["ldap"])
def test_set_var_lines_on_ldap(backend: Backend, tmp_path: Path) -> None:
    """Asterisk's LDAP driver splits a value on ';' and has no codec."""
    rt = backend.realtime(f"ps_endpoints => DRIVER,{DB}\nps_auths => DRIVER,{DB}\n")
    lines, secret = tmp_path / "lines.conf", tmp_path / "secret.conf"
    lines.write_text(SET_VAR)
    secret.write_text(SECRET)
    kinds.run(rt, kinds.import_plan(rt, "pjsip", lines))
    assert rt.load("ps_endpoints", id="e") == {"id": "e", "context": "x", "set_var": "A=1;B=2"}
    [problem] = kinds.import_plan(rt, "pjsip", secret).blocking()
    assert problem.message.endswith("take the ';' out, or keep this object in its file")


@pytest.mark.parametrize("driver", ["pgsql", "mysql"])
def test_a_failed_import_says_where_and_that_it_was_undone(
    backend: Backend, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A value too long for its column fails in the database: the command has shown what the
    plan found, names the mailbox whose write failed, and says that the table is back."""
    rt = backend.realtime(f"voicemail => DRIVER,{DB}\n")
    backend.create(rt, ["voicemail"])
    rt.store("voicemail", {"context": "example", "mailbox": "1000", "password": "1"})
    before = rt.load_multi("voicemail", ("mailbox !=", ""))
    source = tmp_path / "vm-long.conf"
    source.write_text(
        "[general]\nformat = wav\n[example]\n1000 => 9,Short\n1001 => 1,Ann\n"
        f"1002 => 2,{'x' * 100}\n"
    )
    argv = ["--config-dir", str(backend.dir), "import", "voicemail", str(source), "--replace"]
    code = main(["--plain", *argv])
    out, err = capsys.readouterr()
    assert code == 2
    assert out.splitlines() == [
        "skipped: [general]: settings of app_voicemail; they stay in voicemail.conf",
        f"warning: {source}:6: [example]: fullname is 100 characters long; Asterisk's column "
        "holds 80 (a table made by realtime schema refuses it on PostgreSQL and MySQL)",
    ]
    head, _, tail = err.partition(": storing voicemail example/1002: ")
    assert head == f"realtime: error: {source}:6: [example]"
    assert "fullname" in tail or "too long" in tail  # the driver's own words follow
    assert tail.endswith(
        "; nothing was imported (the 2 row(s) written were deleted and the 1 replaced row(s) "
        "stored again): the tables are as they were\n"
    )
    assert rt.load_multi("voicemail", ("mailbox !=", "")) == before
    code = main(["--json", *argv])
    out, err = capsys.readouterr()
    assert code == 2
    report = json.loads(out)
    assert report["error"]["failed_at"] == f"{source}:6: [example]"
    assert report["error"]["restored"] is True
    assert report["error"]["message"] == err.removeprefix("realtime: error: ").rstrip("\n")
    assert [p["level"] for p in report["problems"]] == ["warning"]
