"""The ``realtime`` command against the example PBX (a real sqlite3 file)."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ara_realtime.cli import ENV_CONFIG_DIR, main
from ara_realtime.cli._output import _EPILOG, _HEADER
from ara_realtime.cli._parser import _parser

REPO = Path(__file__).resolve().parents[2]


def run(pbx_dir: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--config-dir", str(pbx_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error(err: str, command: str | None = None) -> str:
    """``err`` is one ``realtime: error:`` line, after ``command``'s usage when one is named.

    Returns the message of the error line.
    """
    lines = err.splitlines()
    assert lines, "no error message"
    *usage, last = lines
    if command is None:
        assert usage == []
        assert last.startswith("realtime: error: ")
        return last.removeprefix("realtime: error: ")
    prog = f"realtime {command}".rstrip()
    assert usage[0].startswith(f"usage: {prog} [-h] ")
    assert all(line.startswith(" ") for line in usage[1:])  # the usage, wrapped
    prefix = f"realtime: error: {command}: " if command else "realtime: error: "
    assert last.startswith(prefix)
    return last.removeprefix(prefix)


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
    ("args", "command", "message"),
    [
        (
            ["update2", "sippeers", "name", "dave", "context", "z"],
            "update2",
            "the third word from the end must be NULL (... NULL SETCOL NEWVAL), got 'dave'",
        ),
        (
            ["update2", "sippeers", "name", "dave", "x", "NULL", "context", "z"],
            "update2",
            "expected COL VAL pairs before NULL, got 3 words: 'x' has no value",
        ),
        (
            [
                "update2",
                "sippeers",
                *(w for i in range(6) for w in (f"c{i}", "v")),
                "NULL",
                "c",
                "z",
            ],
            "update2",
            "at most 5 COL VAL pairs, got 6",
        ),
        (
            ["store", "sippeers", "name"],
            "store",
            "expected COL VAL pairs, got 1 word: 'name' has no value",
        ),
        (
            ["load-multi", "sippeers", "name", "a", "host"],
            "load-multi",
            "expected COL VAL pairs, got 3 words: 'host' has no value",
        ),
        (
            ["destroy", "sippeers", "name", "dave", "host"],
            "destroy",
            "expected COL VAL pairs, got 1 word: 'host' has no value",
        ),
        (["load", "sippeers", "name"], "load", "the following arguments are required: VALUE"),
        (
            ["load-multi", "sippeers", "name", "a", "--json", "host", "b"],
            "load-multi",
            "unrecognized arguments: host b (options go before the command or after all of its "
            "arguments)",
        ),
        (["show"], "show", "the following arguments are required: WHAT"),
        (["config", "show"], "config show", "the following arguments are required: FILE"),
        (
            ["load", "sippeers", "name", "x", "--nope"],
            "load",
            "unrecognized arguments: --nope",
        ),
    ],
)
def test_usage_errors_are_the_commands_usage_and_one_line(
    pbx_dir: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    command: str,
    message: str,
) -> None:
    code, out, err = run(pbx_dir, *args, capsys=capsys)
    assert (code, out) == (2, "")
    assert assert_one_error(err, command) == message


def test_unknown_command(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(pbx_dir, "bogus", capsys=capsys)
    assert (code, out) == (2, "")
    message = assert_one_error(err, "")  # the top level's usage
    assert message.startswith("argument COMMAND: invalid choice: 'bogus' (choose from ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["load", "sippeers", "nosuch", "x"],
            "family 'sippeers': table 'sippeers' has no column 'nosuch'",
        ),
        (["load", "nosuchfamily", "a", "b"], "family 'nosuchfamily' is not mapped in extconfig"),
        (
            ["load", "sippeers", "name BOGUS", "x"],
            "unknown operator 'BOGUS' in field 'name BOGUS'; use one of !=, <, <=, =, >, >=, "
            "LIKE, NOT LIKE",
        ),
        (["config", "show", "nosuch.conf"], "{dir}/nosuch.conf: file not found"),
    ],
)
def test_query_and_config_errors_are_one_line(
    pbx_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(pbx_dir, *args, capsys=capsys)
    assert (code, out) == (2, "")
    assert assert_one_error(err) == message.format(dir=pbx_dir)


@pytest.mark.parametrize(
    ("extconfig", "message"),
    [
        (
            "[settings]\nsippeers => sqlite3,pbx,sippeers,0\n",
            "{dir}/extconfig.conf:2: mapping 'sippeers': priority must be 1 or more, got 0",
        ),
        ("[settings\n", "{dir}/extconfig.conf:1: no closing ']' in category header"),
        (
            "[settings]\nsippeers => nosuchdriver,pbx\n",
            "no driver named 'nosuchdriver' is installed",
        ),
    ],
)
def test_bad_extconfig_is_one_line(
    pbx_dir: Path, capsys: pytest.CaptureFixture[str], extconfig: str, message: str
) -> None:
    (pbx_dir / "extconfig.conf").write_text(extconfig)
    code, out, err = run(pbx_dir, "load", "sippeers", "name", "alice", capsys=capsys)
    assert (code, out) == (2, "")
    assert assert_one_error(err).startswith(message.format(dir=pbx_dir))


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


def test_relative_config_dir(
    pbx_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(pbx_dir.parent)
    code = main(["--config-dir", pbx_dir.name, "--json", "load", "voicemail", "mailbox", "1002"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["email"] == "bob@example.org"


def test_failover_is_a_warning_and_a_failure_is_reported_once(
    pbx_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (pbx_dir / "extconfig.conf").write_text(
        "[settings]\nsippeers => sqlite3,broken,sippeers,1\nsippeers => sqlite3,pbx,sippeers,2\n"
    )
    (pbx_dir / "res_config_sqlite3.conf").write_text(
        "[broken]\ndbfile = missing/dir/x.db\n[pbx]\ndbfile = pbx.db\n"
    )
    code, out, err = run(pbx_dir, "--json", "load", "sippeers", "name", "bob", capsys=capsys)
    assert code == 0 and json.loads(out)["name"] == "bob"
    [warning] = err.splitlines()
    assert warning.startswith("realtime: warning: ") and "sqlite3:broken" in warning
    # every backend fails: the error lists each failure, so no warning repeats one
    (pbx_dir / "res_config_sqlite3.conf").write_text(
        "[broken]\ndbfile = missing/dir/x.db\n[pbx]\ndbfile = missing/dir/pbx.db\n"
    )
    code, out, err = run(pbx_dir, "load", "sippeers", "name", "bob", capsys=capsys)
    assert (code, out) == (3, "")
    message = assert_one_error(err)
    assert message.startswith("backend failure: load on 'sippeers' failed on every backend: ")
    assert "sqlite3:broken" in message and "sqlite3:pbx" in message


# -- --version and help --------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    version = importlib.metadata.version("ara-realtime")
    assert lines[0] == f"realtime (ara-realtime) {version}"
    assert lines[1].startswith(f"Python {platform.python_version()} ")
    # one line per driver: name, distribution, version
    assert f"driver sqlite3: ara-realtime {version}" in lines
    assert f"driver memory: ara-realtime {version}" in lines
    assert all(re.fullmatch(r"driver [\w.-]+: \S+ \S+", line) for line in lines[2:])


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_argument_is_explained() -> None:
    parsers = list(_parsers(_parser()))
    assert {p.prog for p in parsers} >= {
        "realtime load",
        "realtime update2",
        "realtime show mappings",
        "realtime config show",
    }
    for parser in parsers:
        assert parser.description, parser.prog
        assert parser.epilog == _EPILOG, parser.prog
        for action in parser._actions:
            assert action.help and action.help != argparse.SUPPRESS, (parser.prog, action.dest)
            if not action.option_strings:  # a positional: named for the reader
                assert isinstance(action.metavar, str) and action.metavar.isupper(), (
                    parser.prog,
                    action.dest,
                )


def test_help_of_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: realtime load [-h] [--config-dir DIR] [--json | --plain]")
    assert re.search(r"^  COLUMN +column to match; an operator may follow", out, re.MULTILINE)
    assert "exit status:\n  0    done\n" in out


def test_exit_statuses_are_documented_alike() -> None:
    from ara_realtime import cli

    epilog = dict(re.findall(r"^  (\d+) +(\S.*)$", _EPILOG, re.MULTILINE))
    assert set(epilog) == {"0", "1", "2", "3", "4", "141"}
    assert {
        cli.EXIT_OK,
        cli.EXIT_NOT_FOUND,
        cli.EXIT_USAGE,
        cli.EXIT_BACKEND,
        cli.EXIT_UNSUPPORTED,
        cli.EXIT_OUTPUT_CLOSED,
    } == {int(s) for s in epilog}
    docs = (REPO / "docs" / "cli.md").read_text()
    assert set(re.findall(r"^\| (\d+) \|", docs, re.MULTILINE)) == set(epilog)
    docstring = cli.__doc__ or ""
    assert all(f"{s} " in docstring for s in epilog)


# -- options before and after the command --------------------------------------------------


@pytest.mark.parametrize(
    ("words", "check"),
    [
        (["load", "sippeers", "name", "alice"], lambda d: d["name"] == "alice"),
        (["load-multi", "sippeers", "name LIKE", "%"], lambda d: len(d) == 4),
        (["update", "sippeers", "name", "bob", "context", "x"], lambda d: d == {"updated": 1}),
        (
            ["update2", "sippeers", "name", "bob", "NULL", "context", "x"],
            lambda d: d == {"updated": 1},
        ),
        (["store", "sippeers", "name", "dave"], lambda d: d == {"stored": 1}),
        (["destroy", "sippeers", "name", "bob"], lambda d: d == {"removed": 1}),
        (["show", "mappings"], lambda d: d[0]["name"] == "sippeers"),
        (["config", "show", "queues.conf"], lambda d: d[0]["name"] == "general"),
        (["drivers"], lambda d: "sqlite3" in {i["name"] for i in d}),
    ],
)
def test_common_options_after_the_command(
    pbx_dir: Path,
    capsys: pytest.CaptureFixture[str],
    words: list[str],
    check: Callable[[Any], bool],
) -> None:
    code = main([*words, "--json", "--config-dir", str(pbx_dir)])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert check(json.loads(out))


def test_options_between_the_arguments(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["load", "sippeers", "--plain", "name", "--config-dir", str(pbx_dir), "bob"])
    assert code == 0
    assert f"{'name':>30}  {'bob':<30}" in capsys.readouterr().out


def test_options_before_the_command_are_kept(
    pbx_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A subcommand's own default would override both: table output from the environment's
    # directory.
    monkeypatch.setenv(ENV_CONFIG_DIR, str(pbx_dir / "nowhere"))
    code = main(["--config-dir", str(pbx_dir), "--plain", "load", "sippeers", "name", "bob"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == _HEADER.format("Column Name", "Column Value")


def test_an_option_after_the_command_wins_over_the_same_before(
    pbx_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--config-dir", "nowhere", "load", "voicemail", "mailbox", "1002"]
    code = main([*argv, "--json", "--config-dir", str(pbx_dir)])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert json.loads(out)["email"] == "bob@example.org"


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["--json", "load", "sippeers", "name", "bob", "--plain"], "load"),
        (["load", "sippeers", "name", "bob", "--json", "--plain"], "load"),
        (["--json", "show", "--plain", "mappings"], "show"),
        (["show", "--json", "mappings", "--plain"], "show mappings"),
    ],
)
def test_json_and_plain_conflict_wherever_given(
    pbx_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], command: str
) -> None:
    code, out, err = run(pbx_dir, *argv, capsys=capsys)
    assert (code, out) == (2, "")
    assert assert_one_error(err, command) == "argument --plain: not allowed with argument --json"
