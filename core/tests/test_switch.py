"""The realtime switch over a family, on the built-in drivers (sqlite3 file, memory)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ara_realtime import BackendError, ConfigError, QueryError, Realtime
from ara_realtime.cache import RealtimeCache, uncached
from ara_realtime.drivers import memory
from ara_realtime.patterns import Mode
from ara_realtime.plugins import Plugins
from ara_realtime.switch import HINT, RealtimeSwitch, SwitchSpec, _engine, _refresh
from ara_realtime.switch._index import Entry, Index

COLUMNS = {
    "context": ("char", 40),
    "exten": ("char", 40),
    "priority": ("char", 10),  # text: "hint" rows
    "app": ("char", 40),
    "appdata": ("char", 256),
}

ROWS = [
    ("internal", "1001", "1", "Dial", "SIP/alice,20"),
    ("internal", "1001", "2", "VoiceMail", "1001@default,u"),
    ("internal", "1002", "1", "Dial", "SIP/bob,20"),
    ("internal", "_1XXX", "1", "Dial", "SIP/${EXTEN},20"),
    ("internal", "_9NXXNXXXXXX", "1", "Dial", "SIP/trunk/${EXTEN:1}"),
    ("internal", "911", "1", "Dial", "SIP/trunk/911"),
    ("internal", "_X!", "2", "Hangup", ""),
    ("internal", "1001", "hint", "SIP/alice", "CustomPresence:alice"),
    ("internal", "_10XX", "hint", "SIP/${EXTEN}", ""),
    ("other", "1001", "1", "Playback", "other-context"),
]


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(_engine, "_now", c)
    monkeypatch.setattr(_refresh, "_now", c)
    return c


@pytest.fixture(params=["sqlite3", "memory"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Realtime]:
    driver = request.param
    db = f"sw-{tmp_path.name}"
    settings = {"sqlite3": {db: {"dbfile": str(tmp_path / "t.db"), "requirements": "createclose"}}}
    r = Realtime({"extensions": f"{driver},{db}"}, settings, plugins=Plugins())
    assert r.require("extensions", COLUMNS)
    for context, exten, priority, app, appdata in ROWS:
        r.store(
            "extensions",
            {"context": context, "exten": exten, "priority": priority, "app": app}
            | ({"appdata": appdata} if appdata else {}),
        )
    yield r
    r.close()
    memory.reset(db)


def add(
    rt: Realtime, exten: str, priority: str = "1", context: str = "internal", **cols: str
) -> None:
    rt.store("extensions", {"context": context, "exten": exten, "priority": priority, **cols})


# -- the switch's data --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "context", "family", "patterns"),
    [
        ("", None, "extensions", True),
        ("@", None, "extensions", True),
        ("ctx@", "ctx", "extensions", True),
        ("@fam", None, "fam", True),
        ("ctx@fam", "ctx", "fam", True),
        ("ctx@fam/p", "ctx", "fam", False),
        ("/p", None, "extensions", False),
        ("fam", None, "fam", True),  # Asterisk would ignore "fam" and read extensions
        ("fam/p", None, "fam", False),
        ("a@b@c", "a", "b@c", True),  # split at the first "@"
        ("ctx@fam/", "ctx", "fam", True),
        ("c/t@x", None, "c", False),  # options start at the first "/": "t@x" -> "p"? no
    ],
)
def test_spec_parse(data: str, context: str | None, family: str, patterns: bool) -> None:
    if data == "c/t@x":
        patterns = True  # "t", "@", "x" are unknown options: ignored, patterns stay on
    spec = SwitchSpec.parse(data)
    assert (spec.context, spec.family, spec.patterns) == (context, family, patterns)
    assert spec.context_for("calling") == (context or "calling")


def test_spec_unknown_options_warn_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "ara_realtime.switch"):
        assert SwitchSpec.parse("ctx@fam/pqz").patterns is False
        SwitchSpec.parse("ctx@fam/pqz")
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [
        "switch Realtime/ctx@fam/pqz: unknown options 'q', 'z' ignored (only p is known)"
    ]


def test_spec_from_switch_line() -> None:
    assert SwitchSpec.from_switch("Realtime/ctx@fam/p") == SwitchSpec("ctx", "fam", False)
    assert SwitchSpec.from_switch(" REALTIME/@fam") == SwitchSpec(None, "fam", True)
    assert SwitchSpec.from_switch("Realtime") == SwitchSpec()
    with pytest.raises(QueryError, match="not a realtime switch"):
        SwitchSpec.from_switch("DUNDi/priv")
    assert str(SwitchSpec("ctx", "fam", False)) == "Realtime/ctx@fam/p"
    with pytest.raises(QueryError):
        SwitchSpec.parse(None)  # type: ignore[arg-type]


# -- look-ups -----------------------------------------------------------------------------------


def test_operations(rt: Realtime) -> None:
    sw = RealtimeSwitch(rt)
    assert sw.exists("internal", "1001")
    assert sw.exists("internal", "1234")
    assert not sw.exists("internal", "12345")
    assert sw.canmatch("internal", "12")
    assert sw.matchmore("internal", "12")
    assert not sw.matchmore("internal", "1001")  # 1001 and _1XXX take no more digits
    app = sw.exec("internal", "1234")
    assert app is not None and (app.app, app.appdata) == ("Dial", "SIP/${EXTEN},20")
    assert app.match.exten == "_1XXX" and app.match.pattern
    app = sw.exec("internal", "1001", 2)
    assert app is not None and app.app == "VoiceMail"
    app = sw.exec("internal", "5", 2)
    assert app is not None and (app.app, app.appdata) == ("Hangup", "")  # no appdata column
    assert sw.exec("internal", "12345") is None
    found = sw.lookup("internal", "19005551212")
    assert found is None
    found = sw.lookup("internal", "92125551212")
    assert found is not None and found.exten == "_9NXXNXXXXXX"
    assert found.row["appdata"] == "SIP/trunk/${EXTEN:1}"
    with pytest.raises(TypeError):  # shared with the snapshot: read-only
        found.row["appdata"] = "x"  # type: ignore[index]


def test_exact_row_before_patterns(rt: Realtime) -> None:
    sw = RealtimeSwitch(rt)
    m = sw.lookup("internal", "1001")
    assert m is not None and (m.exten, m.pattern) == ("1001", False)
    m = sw.lookup("internal", "1003")
    assert m is not None and m.exten == "_1XXX"


def test_priority_arguments(rt: Realtime) -> None:
    sw = RealtimeSwitch(rt)
    assert sw.exists("internal", "1001", "2")
    assert not sw.exists("internal", "1002", 3)
    assert sw.exists("internal", "7", 2)  # _X!
    assert not sw.exists("internal", "7", 1)  # no pattern at priority 1 takes one digit
    for bad in (0, -2, "x", "1.5", True, 1.0, None):
        with pytest.raises(QueryError, match="priority"):
            sw.exists("internal", "1001", bad)  # type: ignore[arg-type]


def test_matchmore_early_match(rt: Realtime) -> None:
    sw = RealtimeSwitch(rt)
    assert sw.exists("internal", "5", 2)
    assert sw.canmatch("internal", "5", 2)
    assert not sw.matchmore("internal", "5", 2)  # "!": do not wait for more digits
    assert sw.lookup("internal", "5", 2).early  # type: ignore[union-attr]


def test_data_context_and_calling_context(rt: Realtime) -> None:
    sw = RealtimeSwitch(rt)
    app = sw.exec("anything", "1001", data="other@extensions")
    assert app is not None and app.appdata == "other-context"
    app = sw.exec("other", "1001")
    assert app is not None and app.appdata == "other-context"
    assert not sw.exists("nosuch", "1001")


def test_option_p_turns_patterns_off(rt: Realtime) -> None:
    sw = RealtimeSwitch(rt)
    assert sw.exists("internal", "1001", data="/p")
    assert not sw.exists("internal", "1234", data="/p")
    assert sw.canmatch("internal", "10", data="/p")  # 1001, 1002
    assert not sw.canmatch("internal", "19", data="/p")


def test_unmapped_family(rt: Realtime) -> None:
    with pytest.raises(ConfigError, match="not mapped"):
        RealtimeSwitch(rt).exists("internal", "1001", data="@nosuch")


def test_bad_arguments(rt: Realtime) -> None:
    sw = RealtimeSwitch(rt)
    with pytest.raises(QueryError, match="mode"):
        sw.lookup("internal", "1", mode="exists")  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="exten must be str"):
        sw.exists("internal", 1001)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="callerid must be str"):
        sw.exists("internal", "1001", callerid=555)  # type: ignore[arg-type]
    for kwargs in ({"refresh": -1}, {"cache_lifetime": "1"}, {"cache_size": 1.5}):
        with pytest.raises(QueryError):
            RealtimeSwitch(rt, **kwargs)


# -- hints and caller ID (beyond Asterisk's switch) ---------------------------------------------


def test_hints(rt: Realtime) -> None:
    sw = RealtimeSwitch(rt)
    hint = sw.hint("internal", "1001")
    assert hint is not None
    assert (hint.device, hint.presence, hint.value) == (
        "SIP/alice",
        "CustomPresence:alice",
        "SIP/alice,CustomPresence:alice",
    )
    hint = sw.hint("internal", "1050")  # the pattern hint, as stored
    assert hint is not None and hint.value == "SIP/${EXTEN}" and hint.match.pattern
    assert sw.hint("internal", "2000") is None
    assert sw.exists("internal", "1001", "hint")
    assert sw.exists("internal", "1001", HINT)


def test_hints_on_an_integer_priority_column(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "pbx.db")
    conn.executescript(
        "CREATE TABLE extensions (id INTEGER PRIMARY KEY, context VARCHAR(40) NOT NULL,"
        " exten VARCHAR(40) NOT NULL, priority INTEGER NOT NULL, app VARCHAR(40) NOT NULL,"
        " appdata VARCHAR(256) NOT NULL);"
        "INSERT INTO extensions (context, exten, priority, app, appdata) VALUES"
        " ('c', '100', -1, 'SIP/100', ''), ('c', '100', 1, 'Dial', 'SIP/100');"
    )
    conn.close()
    with Realtime(
        {"extensions": "sqlite3,pbx"}, {"sqlite3": {"pbx": {"dbfile": str(tmp_path / "pbx.db")}}}
    ) as rt:
        sw = RealtimeSwitch(rt)
        hint = sw.hint("c", "100")
        assert hint is not None and hint.value == "SIP/100"
        assert sw.exec("c", "100") is not None


def test_callerid_rows(rt: Realtime) -> None:
    add(rt, "2000/5551234", app="Playback", appdata="vip")
    add(rt, "2000/_555XXXX", app="Playback", appdata="local")
    add(rt, "2000", app="Playback", appdata="anyone")
    add(rt, "2001/", app="Playback", appdata="anonymous only")
    add(rt, "2002/(555) 123-4567", app="Playback", appdata="shrunk")
    sw = RealtimeSwitch(rt)

    def data(exten: str, callerid: str | None) -> str | None:
        app = sw.exec("internal", exten, callerid=callerid)
        return app.appdata if app else None

    assert data("2000", "5551234") == "vip"
    assert data("2000", "555-1234") == "vip"  # dashes in the number are ignored
    assert data("2000", "5559999") == "local"
    assert data("2000", "6665555") == "anyone"
    assert data("2000", None) == "anyone"
    assert data("2001", None) == "anonymous only"
    assert data("2001", "") == "anonymous only"
    assert data("2001", "5551234") is None  # "2001/" is for calls without caller ID
    assert data("2002", "5551234567") == "shrunk"
    m = sw.lookup("internal", "2000", callerid="5559999")
    assert m is not None and (m.exten, m.extension, m.callerid) == (
        "2000/_555XXXX",
        "2000",
        "_555XXXX",
    )


# -- snapshots, staleness, the hit cache --------------------------------------------------------


def test_changes_are_seen_within_refresh(rt: Realtime, clock: Clock) -> None:
    sw = RealtimeSwitch(rt, refresh=5.0)
    assert not sw.exists("internal", "3000")
    add(rt, "3000")
    clock.t += 4.9
    assert not sw.exists("internal", "3000")  # the snapshot is trusted for 5 s
    clock.t += 0.2
    assert sw.exists("internal", "3000")
    rt.destroy("extensions", "exten", "3000")
    sw.invalidate("EXTENSIONS", "internal")
    assert not sw.exists("internal", "3000")


def test_rereads_happen_in_the_background_under_traffic(
    rt: Realtime, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    sw = RealtimeSwitch(rt, refresh=10.0, cache_lifetime=0)
    assert not sw.exists("internal", "3000")
    add(rt, "3000")
    release, reading = threading.Event(), threading.Event()
    real = rt.load_multi

    def slow(*args: object, **kwargs: object) -> object:
        reading.set()
        assert release.wait(10)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rt, "load_multi", slow)
    clock.t += 6  # past refresh / 2: used as it is, re-read in the background
    assert not sw.exists("internal", "3000")  # answered without waiting for the re-read
    assert reading.wait(10)
    assert not sw.exists("internal", "3000")  # still the old rows; one re-read at a time
    release.set()
    clock.t += 4.5  # past refresh since the old read: waits for the re-read under way
    assert sw.exists("internal", "3000")
    monkeypatch.setattr(rt, "load_multi", None)  # nothing is read now: the rows read from
    clock.t += 0.4  # 6 s on are 4.9 s old, under refresh / 2
    assert sw.exists("internal", "3000")


def test_refresh_zero_reads_every_time(rt: Realtime) -> None:
    sw = RealtimeSwitch(rt, refresh=0, cache_lifetime=0)
    assert not sw.exists("internal", "3000")
    add(rt, "3000")
    assert sw.exists("internal", "3000")


def test_index_is_rebuilt_only_when_the_context_changes(rt: Realtime, clock: Clock) -> None:
    sw = RealtimeSwitch(rt, refresh=1.0, cache_lifetime=0)
    sw.exists("internal", "1234")
    first = sw.snapshot("extensions", "internal")
    index = first.index(1)
    clock.t += 10
    assert sw.exists("internal", "1234")
    again = sw.snapshot("extensions", "internal")
    assert again is first and again.index(1) is index  # re-read, same rows: kept
    rt.update("extensions", "exten", "_1XXX", {"appdata": "changed"})
    clock.t += 10
    assert list(sw.snapshot("extensions", "internal")._indexes) == [1]  # built by the re-read
    app = sw.exec("internal", "1234")
    assert app is not None and app.appdata == "changed"
    changed = sw.snapshot("extensions", "internal")
    assert changed is not first and changed.generation > first.generation
    # unchanged extensions are not parsed again
    assert changed.compiled["_9NXXNXXXXXX"] is first.compiled["_9NXXNXXXXXX"]


def test_hit_cache(rt: Realtime, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    sw = RealtimeSwitch(rt, refresh=100.0, cache_lifetime=2.0)
    calls: list[str] = []
    real_find = Index.find

    def counting(
        self: Index,
        dialed: str,
        mode: Mode,
        callerid: str | None = None,
        *,
        use_patterns: bool = True,
    ) -> tuple[Entry, int] | None:
        calls.append(dialed)
        return real_find(self, dialed, mode, callerid, use_patterns=use_patterns)

    monkeypatch.setattr(Index, "find", counting)
    assert sw.exists("internal", "1234")
    assert sw.exists("internal", "1234")
    assert sw.exec("internal", "1234") is not None
    assert calls == ["1234"]  # one search; the rest from the cache
    assert not sw.exists("internal", "555")
    assert not sw.exists("internal", "555")
    assert calls == ["1234", "555", "555"]  # misses are not remembered
    sw.exists("internal", "1234", callerid="1")
    assert calls[-1] == "1234"  # another caller ID is another question
    clock.t += 2.5
    calls.clear()
    assert sw.exists("internal", "1234")
    assert calls == ["1234"]  # expired


def test_hit_cache_never_outlives_its_snapshot(rt: Realtime, clock: Clock) -> None:
    sw = RealtimeSwitch(rt, refresh=1.0, cache_lifetime=60.0)
    assert sw.exec("internal", "1234").appdata == "SIP/${EXTEN},20"  # type: ignore[union-attr]
    rt.update("extensions", "exten", "_1XXX", {"appdata": "new"})
    clock.t += 1.5
    assert sw.exec("internal", "1234").appdata == "new"  # type: ignore[union-attr]


def test_hit_cache_is_bounded(rt: Realtime) -> None:
    sw = RealtimeSwitch(rt, cache_size=3)
    for n in range(1000, 1010):
        sw.exists("internal", str(n))
    assert len(sw._cache) == 3
    assert RealtimeSwitch(rt, cache_size=0).exists("internal", "1001")


def test_stale_rows_are_served_while_the_backend_fails(
    rt: Realtime, clock: Clock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sw = RealtimeSwitch(rt, refresh=1.0)
    assert sw.exists("internal", "1234")

    def down(*args: object, **kwargs: object) -> None:
        raise BackendError("server gone")

    monkeypatch.setattr(rt, "load_multi", down)
    with caplog.at_level(logging.WARNING, "ara_realtime.switch"):
        for _ in range(3):
            clock.t += 2
            assert sw.exists("internal", "1234")
    assert len(caplog.records) == 1
    assert "serving the rows read" in caplog.records[0].getMessage()
    with pytest.raises(BackendError):
        sw.exists("other", "1001")  # nothing read yet: the failure is the answer
    monkeypatch.undo()


def test_a_background_reread_that_fails_is_logged(
    rt: Realtime, clock: Clock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sw = RealtimeSwitch(rt, refresh=10.0)
    assert sw.exists("internal", "1234")

    def broken(*args: object, **kwargs: object) -> None:
        raise QueryError("family 'extensions': table 'extensions' has no column 'context'")

    monkeypatch.setattr(rt, "load_multi", broken)
    with caplog.at_level(logging.WARNING, "ara_realtime.switch"):
        clock.t += 6
        assert sw.exists("internal", "1234")  # the re-read fails in the background
        for state in sw._store._states.values():  # wait for it
            with state.lock:
                pass
        clock.t += 20  # failing: no look-up waits for the storage; retried in the background
        assert sw.exists("internal", "1234")
    assert [r.getMessage() for r in caplog.records][:1] == [
        "realtime switch: cannot re-read context 'internal' of family 'extensions' (family "
        "'extensions': table 'extensions' has no column 'context'); serving the rows read 6 s "
        "ago until it answers"
    ]


def test_bad_rows_are_reported(rt: Realtime, caplog: pytest.LogCaptureFixture) -> None:
    add(rt, "4000", priority="first")
    add(rt, "4001", priority="0")
    add(rt, "/555")
    add(rt, "_1X-XX", app="Dup")  # the same extension as _1XXX
    with caplog.at_level(logging.WARNING, "ara_realtime.switch"):
        sw = RealtimeSwitch(rt)
        m = sw.lookup("internal", "1234")
    assert m is not None and m.exten == "_1X-XX"  # "-" sorts before "X": the lowest spelling
    text = " ".join(r.getMessage() for r in caplog.records)
    assert "priority 'first'" in text and "priority '0'" in text
    assert "no extension before '/'" in text
    assert "'_1XXX' priority 1 is the same extension as '_1X-XX'" in text
    report = sw.explain("internal", "1234")
    assert len(report.problems) == 4
    assert not sw.exists("internal", "4000")


def test_threads_share_a_switch(rt: Realtime) -> None:
    sw = RealtimeSwitch(rt, refresh=0.0, cache_lifetime=0.001)
    errors: list[BaseException] = []
    expected = {str(n): sw.exists("internal", str(n)) for n in range(995, 1015)}

    def work() -> None:
        try:
            for _ in range(20):
                for dialed, want in expected.items():
                    assert sw.exists("internal", dialed) is want
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# -- explanations -------------------------------------------------------------------------------


def test_explain(rt: Realtime) -> None:
    sw = RealtimeSwitch(rt)
    report = sw.explain("internal", "1234")
    assert report.found
    assert report.results["match"].exten == "_1XXX"  # type: ignore[union-attr]
    assert report.results["matchmore"] is None
    assert "'_1XXX' is pattern 1 of 2 in dialplan order" in report.why
    assert [c.exten for c in report.candidates] == ["_1XXX"]
    assert (report.rows, report.extensions, report.plain, report.patterns) == (9, 5, 3, 2)
    report = sw.explain("internal", "1001")
    assert report.why == "'1001' is a plain extension at priority 1: the exact row."
    assert [c.exten for c in report.candidates] == ["1001", "_1XXX"]
    report = sw.explain("internal", "9")
    assert not report.found and "More digits could match '911'" in report.why
    report = sw.explain("internal", "5", 2)
    assert "answers first with an early match" in report.why
    d = report.to_dict()
    assert d["priority"] == 2 and d["results"]["matchmore"] is None
    assert d["results"]["match"]["early"] is True


def test_rereads_go_past_the_realtime_cache(tmp_path: Path) -> None:
    """A cached extensions family (ttl 30 s, coherence = ttl) would answer the context read
    for 30 s; the switch's bound (here: re-read on every look-up) holds all the same."""
    settings = {
        "sqlite3": {"db": {"dbfile": str(tmp_path / "t.db"), "requirements": "createclose"}}
    }
    rt = Realtime({"extensions": "sqlite3,db"}, settings, plugins=Plugins())
    try:
        assert rt.require("extensions", COLUMNS)
        add(rt, "3000")
        cache = RealtimeCache({"extensions": {"ttl": 30, "coherence": "ttl"}}).attach(rt)
        sw = RealtimeSwitch(rt, refresh=0, cache_lifetime=0)
        assert rt.load_multi("extensions", ("context", "internal"))  # cached for everyone else
        assert sw.exists("internal", "3000")
        other = sqlite3.connect(tmp_path / "t.db")  # another program: the cache cannot know
        with other:
            other.execute("DELETE FROM extensions WHERE exten = '3000'")
        other.close()
        assert rt.load_multi("extensions", ("context", "internal"))  # still the cached rows
        assert not sw.exists("internal", "3000")
        assert cache.stats().family("extensions").hits == 1  # the switch never used it
        with uncached():
            assert rt.load_multi("extensions", ("context", "internal")) == []
    finally:
        rt.close()
