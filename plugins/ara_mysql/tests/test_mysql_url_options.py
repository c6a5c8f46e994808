"""A URL option the DB-API does not know is the user's mistake: a ConfigError naming the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ara_realtime import ConfigError, Realtime
from ara_realtime.cli import main


@pytest.mark.parametrize("dbapi", ["mysqlclient", "pymysql"])
def test_an_unknown_url_option_names_file_and_line(
    dbapi: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "extconfig.conf").write_text("[settings]\nsippeers => mysql,general\n")
    conf = tmp_path / "res_config_mysql.conf"
    conf.write_text(
        f"[general]\ndbapi = {dbapi}\nurl = mysql://u:Secret-9@127.0.0.1:1/db?bogus_option=1\n"
    )
    with pytest.raises(ConfigError) as info:
        Realtime.from_config_dir(tmp_path).load("sippeers", name="alice")
    assert str(info.value).startswith(f"{conf}:3: ")
    assert "bogus_option" in str(info.value) and "Secret-9" not in str(info.value)
    # the CLI: one error line, exit status 2, no traceback
    assert main(["--config-dir", str(tmp_path), "load", "sippeers", "name", "alice"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{conf}:3: " in err and "Traceback" not in err
