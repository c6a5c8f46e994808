"""The commands: realtime schema, config import/export, import/export (on sqlite3)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from ara_realtime.cli import main

EXTCONFIG = """\
[settings]
sippeers => sqlite3,asterisk
queues => sqlite3,asterisk
queue_members => sqlite3,asterisk
extensions.conf => sqlite3,asterisk,ast_config
"""


@pytest.fixture
def confdir(tmp_path: Path) -> Path:
    (tmp_path / "res_config_sqlite3.conf").write_text("[asterisk]\ndbfile = pbx.db\n")
    (tmp_path / "extconfig.conf").write_text(EXTCONFIG)
    return tmp_path


def run(confdir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--config-dir", str(confdir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_schema_prints_postgresql_ddl(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # no extconfig.conf is needed to print DDL
    code, out, err = run(tmp_path, capsys, "schema", "sippeers", "--dialect", "postgresql")
    assert (code, err) == (0, "")
    assert out.startswith("CREATE TYPE type_values AS ENUM ('friend', 'user', 'peer');\n")
    assert "CREATE TYPE yes_no_values AS ENUM ('yes', 'no');" in out
    assert "CREATE TABLE sippeers (\n\tid SERIAL NOT NULL, \n\tname VARCHAR(40) NOT NULL," in out
    code, out, _ = run(tmp_path, capsys, "--json", "schema", "queue_rules", "--dialect", "sqlite")
    assert json.loads(out)["statements"][0].startswith("CREATE TABLE queue_rules (")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["schema", "sippeers"], "give exactly one of --dialect NAME, --create, --check, not none"),
        (
            ["schema", "sippeers", "--create", "--check"],
            "give exactly one of --dialect NAME, --create, --check, not --create --check",
        ),
        (
            ["schema", "--check"],
            "--check needs at least one FAMILY (or NAME.conf for a static file)",
        ),
    ],
)
def test_schema_usage(
    confdir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run(confdir, capsys, *args)
    assert code == 2
    assert err.splitlines()[-1] == f"realtime: error: schema: {message}"


def test_schema_create_and_check(confdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(confdir, capsys, "--plain", "schema", "--check", "sippeers")
    assert code == 1
    assert out == "sqlite3:asterisk: sippeers (sippeers): the table does not exist\n"
    code, out, _ = run(
        confdir, capsys, "--json", "schema", "--create", "sippeers", "extensions.conf"
    )
    assert code == 0
    assert [(o["table"], o["action"]) for o in json.loads(out)] == [
        ("sippeers", "created"),
        ("ast_config", "created"),
    ]
    code, out, _ = run(confdir, capsys, "schema", "--check", "sippeers", "extensions.conf")
    assert (code, out) == (0, "Every table is as defined.\n")


def test_schema_without_the_extra(
    confdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "alembic", None)  # import alembic -> ImportError
    code, _, err = run(confdir, capsys, "schema", "sippeers", "--dialect", "mysql")
    assert code == 2
    assert err == (
        "realtime: error: this command needs the schema extra (alembic is not installed): "
        "pip install 'ara-realtime[schema]'\n"
    )


def test_config_import_dry_run_then_import_and_export(
    confdir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(confdir, capsys, "schema", "--create", "extensions.conf")
    source = tmp_path / "src" / "extensions.conf"
    source.parent.mkdir()
    source.write_text("[default]\nexten => 100,1,Answer()\n[empty]\n")
    code, out, _ = run(confdir, capsys, "--json", "config", "import", str(source), "--dry-run")
    assert code == 0
    assert [(r["category"], r["var_name"]) for r in json.loads(out)["rows"]] == [
        ("default", "exten"),
        ("empty", ""),
    ]
    code, out, _ = run(confdir, capsys, "config", "import", str(source))
    assert (code, out) == (0, "Imported extensions.conf: 2 rows through mapping extensions.conf.\n")
    code, _, err = run(confdir, capsys, "config", "import", str(source))
    assert code == 2
    assert "extensions.conf already has 2 rows" in err
    assert run(confdir, capsys, "config", "import", str(source), "--replace")[0] == 0
    code, out, _ = run(confdir, capsys, "config", "show", "extensions.conf")
    assert out == "[default]\nexten = 100,1,Answer()\n\n[empty]\n"
    target = tmp_path / "back.conf"
    code, out, _ = run(
        confdir, capsys, "config", "export", "extensions.conf", "--output", str(target)
    )
    assert (code, out) == (0, "")
    assert target.read_text() == "[default]\nexten = 100,1,Answer()\n\n[empty]\n"


def test_import_shows_problems_and_stops(
    confdir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(confdir, capsys, "schema", "--create", "sippeers")
    source = tmp_path / "sip.conf"
    source.write_text(
        "[general]\nbindport = 5060\n[alice]\ntype = friend\nhost = dynamic\nvideo = yes\n"
    )
    code, out, err = run(confdir, capsys, "--plain", "import", "sippeers", str(source))
    assert code == 2
    assert out.splitlines()[-2:] == [
        "skipped: [general]: the module's own settings; they stay in the file",
        f"unknown option: {source}:6: [alice]: option 'video' has no column in sippeers",
    ]
    assert err == (
        "realtime: error: 1 problem(s) stop the import (listed above); --drop-unknown leaves "
        "unknown options out\n"
    )
    code, out, _ = run(
        confdir, capsys, "--plain", "import", "sippeers", str(source), "--drop-unknown"
    )
    assert code == 0
    assert out.splitlines()[-1] == "Stored 1 row in sippeers."
    code, out, _ = run(confdir, capsys, "export", "sippeers")
    assert out == "[alice]\nhost = dynamic\ntype = friend\n"


def test_import_dry_run_writes_nothing(
    confdir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(confdir, capsys, "schema", "--create", "queues", "queue_members")
    source = tmp_path / "queues.conf"
    source.write_text("[sales]\nstrategy = ringall\nmember => PJSIP/1101\n")
    code, out, _ = run(confdir, capsys, "--json", "import", "queues", str(source), "--dry-run")
    assert code == 0
    report = json.loads(out)
    assert [(r["family"], r["values"]) for r in report["rows"]] == [
        ("queues", {"name": "sales", "strategy": "ringall"}),
        ("queue_members", {"queue_name": "sales", "interface": "PJSIP/1101"}),
    ]
    code, out, _ = run(confdir, capsys, "export", "queues")
    assert (code, out) == (0, "")


def test_a_large_import_draws_a_progress_bar_on_a_terminal(
    confdir: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(confdir, capsys, "schema", "--create", "extensions.conf")
    source = tmp_path / "extensions.conf"
    source.write_text("[big]\n" + "".join(f"exten => {n},1,NoOp()\n" for n in range(300)))
    advanced: list[int] = []
    from rich.progress import Progress

    real = Progress.advance

    def advance(self: Progress, task: Any, n: float = 1) -> None:
        advanced.append(int(n))
        real(self, task, n)

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(Progress, "advance", advance)
    assert run(confdir, capsys, "config", "import", str(source))[0] == 0
    assert sum(advanced) == 300
    advanced.clear()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)  # a pipe or a file: no bar
    assert run(confdir, capsys, "config", "import", str(source), "--replace")[0] == 0
    assert advanced == []
