"""What the conformance suite cannot know: this driver's own settings and file format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ara_jsonfile import connect

from ara_realtime import BackendError, ConfigError, QueryError, Realtime


def test_settings_from_the_drivers_conf_file(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "res_config_jsonfile.conf").write_text(
        "[pbx]\ndirectory = data\nrequirements = createchar\n"
    )
    store = connect("pbx", {}, tmp_path)
    assert store.directory == tmp_path / "data" and store.mode == "createchar"
    assert connect("pbx", {"requirements": "warn"}, tmp_path).mode == "warn"  # code wins


@pytest.mark.parametrize(
    ("conf", "settings", "message"),
    [
        ("[pbx]\n", {}, "no 'directory' set"),
        ("[pbx]\ndirectory = x\nrequirements = sometimes\n", {}, "requirements must be one of"),
        (
            "[pbx]\ndirectory = x\ndbfile = y\n",
            {},
            "res_config_jsonfile.conf:3: .*unknown setting 'dbfile'",
        ),
    ],
)
def test_bad_settings_are_config_errors(
    tmp_path: Path, conf: str, settings: dict[str, str], message: str
) -> None:
    (tmp_path / "res_config_jsonfile.conf").write_text(conf)
    with pytest.raises(ConfigError, match=message):
        connect("pbx", settings, tmp_path)


def test_file_format_and_errors(tmp_path: Path) -> None:
    rt = Realtime(
        {"peers": "jsonfile,db"},
        {"jsonfile": {"db": {"directory": str(tmp_path), "requirements": "createclose"}}},
    )
    assert rt.require("peers", {"name": ("char", 40), "port": ("uinteger2", 5)})
    rt.store("peers", {"name": "a\u2028b", "port": "5060"})
    lines = (tmp_path / "peers.jsonl").read_text(encoding="utf-8").split("\n")
    assert json.loads(lines[0])["columns"] == [["name", "CHAR", 40], ["port", "UINTEGER2", 5]]
    assert json.loads(lines[1]) == {"name": "a\u2028b", "port": "5060"}
    with pytest.raises(QueryError, match="holds integers"):
        rt.store("peers", {"name": "b", "port": "many"})
    missing = Realtime(
        {"peers": "jsonfile,db"}, {"jsonfile": {"db": {"directory": str(tmp_path / "gone")}}}
    )
    with pytest.raises(BackendError):
        missing.load("peers", name="a")
    other = Realtime({"nope": "jsonfile,db"}, {"jsonfile": {"db": {"directory": str(tmp_path)}}})
    with pytest.raises(QueryError, match="does not exist"):
        other.load("nope", name="a")
    assert rt.require("peers", {"extra": ("char", 3)}) is True  # the create mode adds it
    warn = Realtime({"peers": "jsonfile,db"}, {"jsonfile": {"db": {"directory": str(tmp_path)}}})
    assert warn.require("peers", {"more": ("char", 3)}) is False
