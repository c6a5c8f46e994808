"""The ``realtime`` command against the example PBX (a real sqlite3 file)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ara_realtime.cli import main


def run(pbx_dir: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--config-dir", str(pbx_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_load_plain_is_asterisks_format(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(pbx_dir, "--plain", "load", "sippeers", "name", "bob", capsys=capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"{'Column Name':>30}  {'Column Value':<30}".rstrip() or lines[0].startswith(
        " " * 19 + "Column Name"
    )
    assert lines[1].strip().startswith("-" * 20)
    assert f"{'name':>30}  {'bob':<30}" in out
    assert f"{'callerid':>30}  " + '"Bob Builder" <1002>' in out
    assert "ipaddr" not in out  # NULL columns are not shown


def test_load_table_and_json(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(pbx_dir, "load", "sippeers", "name", "alice", capsys=capsys)
    assert code == 0 and "Column Name" in out and "192.0.2.21" in out and "Yealink T46U" in out
    code, out, _ = run(pbx_dir, "--json", "load", "sippeers", "name", "alice", capsys=capsys)
    row = json.loads(out)
    assert row["name"] == "alice" and row["allow"] == "ulaw;alaw;g722" and row["port"] == "5060"


def test_not_found(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(pbx_dir, "load", "sippeers", "name", "nobody", capsys=capsys)
    assert code == 1 and out.strip() == "No rows found matching search criteria."


def test_load_multi_with_operator(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        pbx_dir,
        "--json",
        "load-multi",
        "extensions",
        "exten LIKE",
        "\\_%",
        "context",
        "internal",
        capsys=capsys,
    )
    assert code == 0
    assert [r["exten"] for r in json.loads(out)] == ["_1XXX", "_9NXXNXXXXXX"]


def test_write_commands(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(pbx_dir, "store", "sippeers", "name", "dave", "host", "dynamic", capsys=capsys)[
        1:
    ] == ("Stored RealTime record.\n", "")
    assert (
        run(pbx_dir, "update", "sippeers", "host", "dynamic", "context", "x", capsys=capsys)[1]
        == "Updated 4 RealTime records.\n"
    )
    assert (
        run(pbx_dir, "update", "sippeers", "name", "dave", "context", "y", capsys=capsys)[1]
        == "Updated 1 RealTime record.\n"
    )
    assert (
        run(
            pbx_dir,
            "update2",
            "sippeers",
            "name",
            "dave",
            "host",
            "dynamic",
            "NULL",
            "context",
            "z",
            capsys=capsys,
        )[1]
        == "Updated 1 RealTime record.\n"
    )
    code, out, _ = run(
        pbx_dir, "update", "sippeers", "name", "nobody", "context", "y", capsys=capsys
    )
    assert (code, out) == (1, "Updated 0 RealTime records.\n")
    assert run(pbx_dir, "destroy", "sippeers", "name", "dave", capsys=capsys)[1] == (
        "Removed 1 RealTime record.\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["update2", "sippeers", "name", "dave", "context", "z"],
        ["update2", "sippeers", "name", "dave", "NOPE", "context", "z"],
        ["store", "sippeers", "name"],
        ["load-multi", "sippeers", "name", "a", "host"],
    ],
)
def test_usage_errors(pbx_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, _out, err = run(pbx_dir, *args, capsys=capsys)
    assert code == 2 and "realtime: error:" in err and "Traceback" not in err


def test_query_and_config_errors_are_one_line(
    pbx_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(pbx_dir, "load", "sippeers", "nosuch", "x", capsys=capsys)
    assert code == 2 and "no column 'nosuch'" in err
    code, _, err = run(pbx_dir, "load", "nosuchfamily", "a", "b", capsys=capsys)
    assert code == 2 and "not mapped" in err


def test_backend_failure_exit_code(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (pbx_dir / "res_config_sqlite3.conf").write_text("[pbx]\ndbfile = missing/dir/pbx.db\n")
    code, _, err = run(pbx_dir, "load", "sippeers", "name", "alice", capsys=capsys)
    assert code == 3 and "backend failure" in err


def test_show_mappings(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(pbx_dir, "show", "mappings", capsys=capsys)
    assert code == 0
    assert out.splitlines()[0] == "Config Engine: sqlite3"
    assert "===> sipregs (db=pbx, table=sippeers)" in out
    assert "===> queues.conf (db=pbx, table=ast_config)" in out


def test_config_show_from_database_and_file(
    pbx_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(pbx_dir, "config", "show", "queues.conf", capsys=capsys)
    assert code == 0
    assert out.index("[general]") < out.index("[support]") < out.index("[sales]")
    assert "member = SIP/bob" in out or "member=SIP/bob" in out
    assert "retired" not in out  # commented row
    code, out, _ = run(
        pbx_dir, "--json", "config", "show", "res_config_sqlite3.conf", capsys=capsys
    )
    assert json.loads(out)[0]["name"] == "pbx"


def test_malformed_file_gives_file_line(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (pbx_dir / "broken.conf").write_text("[ok]\na = 1\n[broken\nb = 2\n")
    code, _, err = run(pbx_dir, "config", "show", "broken.conf", capsys=capsys)
    assert code == 2
    assert f"{pbx_dir / 'broken.conf'}:3:" in err


def test_drivers_listing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--plain", "drivers"]) == 0
    out = capsys.readouterr().out
    assert "sqlite3" in out and "memory" in out and "ara-realtime" in out


def test_console_script_runs_without_traceback(pbx_dir: Path) -> None:
    exe = Path(sys.executable).with_name("realtime")
    proc = subprocess.run(
        [str(exe), "--config-dir", str(pbx_dir), "load", "sippeers", "name"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and "usage:" in proc.stderr and "Traceback" not in proc.stderr


def test_relative_config_dir(
    pbx_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(pbx_dir.parent)
    code = main(["--config-dir", pbx_dir.name, "--json", "load", "voicemail", "mailbox", "1002"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["email"] == "bob@example.org"
