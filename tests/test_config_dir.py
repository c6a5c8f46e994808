"""A relative configuration directory works for every driver that reads its own res_*.conf.

``Realtime.from_config_dir("etc")`` (and ``realtime --config-dir etc``) used to double the
path for pgsql and mysql (``etc/etc/res_pgsql.conf: file not found``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ara_realtime import ConfigError, Realtime
from ara_realtime.cli import main

#: driver -> (its Asterisk file, a section that file's reader looks at)
FILES = {
    "pgsql": ("res_pgsql.conf", "general"),
    "mysql": ("res_config_mysql.conf", "general"),
    "sqlite3": ("res_config_sqlite3.conf", "pbx"),  # Asterisk ignores its [general]
}


@pytest.mark.parametrize("driver", sorted(FILES))
def test_a_relative_config_dir_reads_the_drivers_own_file(
    driver: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name, section = FILES[driver]
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "extconfig.conf").write_text(f"[settings]\nsippeers => {driver},{section}\n")
    # an unknown key: the error proves the file itself was found and read, line by line
    (etc / name).write_text(f"[{section}]\nno_such_key = 1\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        Realtime.from_config_dir("etc").load("sippeers", name="alice")
    assert str(info.value).startswith(f"{etc / name}:2: ")
    assert "no_such_key" in str(info.value)
    assert main(["--config-dir", "etc", "load", "sippeers", "name", "alice"]) == 2
    assert f"{etc / name}:2: " in capsys.readouterr().err
