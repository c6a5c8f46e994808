"""docs/migrating.md, run: every file it shows is written into a copy of Asterisk's basic-pbx
configuration, every ``realtime`` command it shows runs against a throwaway PostgreSQL server,
and each command's output must be what the page shows (``...`` stands for lines left out)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from ara_realtime import Config
from ara_realtime.cli import ENV_CONFIG_DIR, main
from ara_testservers import PostgresServer

REPO = Path(__file__).resolve().parents[3]
DOC = REPO / "docs" / "migrating.md"
ETC = "/etc/asterisk"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)


def _blocks() -> list[tuple[str, list[str]]]:
    return [(m.group(1), m.group(2).splitlines()) for m in _FENCE.finditer(DOC.read_text())]


def _commands(lines: list[str]) -> list[tuple[str, list[str]]]:
    """``$ command`` lines of a console block, each with the output lines after it."""
    out: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("$ "):
            out.append((line[2:], []))
        else:
            assert out, f"output before any command in a console block: {line!r}"
            out[-1][1].append(line)
    return out


def _matches(expected: list[str], actual: list[str]) -> bool:
    """Line for line (trailing blanks ignored); a ``...`` line skips any number of lines."""
    i = 0
    for n, want in enumerate(expected):
        if want == "...":
            if n + 1 == len(expected):
                return True
            following = expected[n + 1]
            while i < len(actual) and actual[i] != following:
                i += 1
            continue
        if i >= len(actual) or actual[i] != want:
            return False
        i += 1
    return i == len(actual)


def _settings(text: str, pg: PostgresServer) -> str:
    """res_pgsql.conf as shown, with the test server's address and credentials."""
    ours = pg.settings("asterisk")
    lines = []
    for line in text.splitlines():
        key = line.partition("=")[0].strip()
        lines.append(f"{key} = {ours[key]}" if key in ours else line)
    return "\n".join(lines) + "\n"


def test_every_step_of_the_migration_page(
    pg_server: PostgresServer,
    asterisk_corpus: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    etc = tmp_path / "etc"
    shutil.copytree(asterisk_corpus / "asterisk-basic-pbx", etc)
    pg_server.psql(f"CREATE DATABASE asterisk OWNER {pg_server.user}")
    monkeypatch.setenv(ENV_CONFIG_DIR, str(etc))
    ran = files = 0
    try:
        for info, lines in _blocks():
            if info == "ini" and lines and lines[0].startswith(f"; {ETC}/"):
                name = lines[0][len(f"; {ETC}/") :]
                text = "\n".join(lines[1:]) + "\n"
                if name == "res_pgsql.conf":
                    text = _settings(text, pg_server)
                (etc / name).write_text(text)
                files += 1
            elif info == "console":
                for command, expected in _commands(lines):
                    words = shlex.split(command.replace(ETC, str(etc)))
                    assert words[0] == "realtime"
                    code = main(words[1:])
                    out, err = capsys.readouterr()
                    actual = [line.rstrip() for line in out.replace(str(etc), ETC).splitlines()]
                    assert (code, err) == (0, ""), command
                    assert _matches(expected, actual), f"{command}\n" + "\n".join(actual)
                    ran += 1
    finally:
        pg_server.psql("DROP DATABASE asterisk WITH (FORCE)")
    assert (files, ran) == (3, 11)
    # the file written back from the table is the dialplan Asterisk reads from the file
    back = Config.from_file(etc / "extensions.conf.from-db")
    assert back == Config.from_file(asterisk_corpus / "asterisk-basic-pbx" / "extensions.conf")
