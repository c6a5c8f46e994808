"""The corpus's pjsip.conf, voicemail.conf and queues.conf samples (and a sip.conf: chan_sip,
and with it sip.conf.sample, left Asterisk in version 21, before the corpus was taken) go in
as rows and come back as the same objects with the same options, on sqlite3, PostgreSQL,
MariaDB and LDAP."""

from __future__ import annotations

from pathlib import Path

from ara_realtime import Config
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
