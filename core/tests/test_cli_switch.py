"""``realtime switch`` against the example PBX (a real sqlite3 file)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ara_realtime.cli import main


def run(pbx_dir: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--config-dir", str(pbx_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_pattern_match_plain(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(pbx_dir, "switch", "internal", "1234", "--plain", capsys=capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "Realtime/@extensions in context internal: context 'internal' of family 'extensions'",
        "6 rows; priority 1: 5 extensions (3 plain, 2 patterns)",
        "exists:    yes  _1XXX",
        "canmatch:  yes  _1XXX",
        "matchmore: no",
        "exec:      Dial(SIP/${EXTEN},20)",
        "why: no plain extension '1234' at priority 1; '_1XXX' is pattern 1 of 2 in dialplan"
        " order and the first that matches.",
        "Extensions matching, in dialplan order (the first the caller ID allows wins):",
        "Position  Exten  Kind     Caller ID",
        "--------  -----  -------  ---------",
        "4         _1XXX  pattern  ok",
    ]


def test_not_found_is_status_1(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(pbx_dir, "switch", "internal", "9", "--plain", capsys=capsys)
    assert code == 1
    assert "exists:    no\ncanmatch:  yes  911\nmatchmore: yes  911\n" in out
    assert "why: no extension at priority 1 matches '9'. More digits could match '911'." in out


def test_priority_data_and_json(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        pbx_dir, "switch", "elsewhere", "1001", "2", "--data", "internal@", "--json", capsys=capsys
    )
    assert code == 0
    report = json.loads(out)
    assert report["switch"] == "Realtime/internal@extensions"
    assert report["context"] == "internal" and report["priority"] == 2
    assert report["results"]["match"]["row"]["app"] == "VoiceMail"
    assert report["results"]["matchmore"] is None
    assert report["why"] == "'1001' is a plain extension at priority 2: the exact row."
    code, out, _ = run(
        pbx_dir, "switch", "internal", "1234", "--data", "/p", "--json", capsys=capsys
    )
    assert code == 1 and json.loads(out)["why"].endswith("(option p: no pattern search).")


def test_callerid_and_hint(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conn = sqlite3.connect(pbx_dir / "pbx.db")
    conn.executescript(
        "INSERT INTO extensions (context, exten, priority, app, appdata) VALUES"
        " ('internal', '1002/5551234', 1, 'Playback', 'vip'),"
        " ('internal', '1002', -1, 'SIP/bob', '');"
    )
    conn.commit()
    conn.close()
    code, out, _ = run(
        pbx_dir, "switch", "internal", "1002", "--callerid", "555", "--plain", capsys=capsys
    )
    assert code == 0
    assert "exec:      Dial(SIP/bob,20)" in out
    assert "Skipped for the caller ID: '1002/5551234'." in out
    assert "2         1002/5551234  plain    rejected\n3         1002          plain    ok\n" in out
    code, out, _ = run(
        pbx_dir, "switch", "internal", "1002", "--callerid", "5551234", "--plain", capsys=capsys
    )
    assert "exec:      Playback(vip)" in out
    code, out, _ = run(pbx_dir, "switch", "internal", "1002", "hint", "--json", capsys=capsys)
    assert code == 0 and json.loads(out)["results"]["match"]["row"]["app"] == "SIP/bob"


def test_mistakes_are_one_line(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(pbx_dir, "switch", "internal", "1001", "first", capsys=capsys)
    assert (code, out) == (2, "")
    assert err == ("realtime: error: priority must be a whole number >= 1 or 'hint', not 'first'\n")
    code, out, err = run(pbx_dir, "switch", "internal", "1", "--data", "@nosuch", capsys=capsys)
    assert code == 2 and err.startswith("realtime: error: family 'nosuch' is not mapped")
    code, _, err = run(pbx_dir, "switch", "internal", capsys=capsys)
    assert code == 2 and "the following arguments are required: EXTEN" in err
