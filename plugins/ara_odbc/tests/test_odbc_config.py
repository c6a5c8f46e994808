"""res_odbc.conf and res_config_odbc.conf: Asterisk's keys and defaults; errors name the line."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from ara_odbc.config import ClassSettings, connection_string, describe_dsn, read_config
from ara_realtime import ConfigError

CORPUS_SAMPLE = "asterisk-conf-samples/res_odbc.conf.sample"


def _write(tmp_path: Path, text: str, name: str = "res_odbc.conf") -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path


def test_every_asterisk_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARA_ODBC_TEST_ENV", raising=False)
    d = _write(
        tmp_path,
        "[ENV]\nARA_ODBC_TEST_ENV => here\n\n"
        "[asterisk]\nenabled => yes\ndsn => asterisk-connector\nusername => myuser\n"
        "password => mypass\npre-connect => no\nsanitysql => select 2\nmax_connections => 20\n"
        "backslash_is_escape => no\nconnect_timeout => 3\nnegative_connection_cache => 300\n"
        "forcecommit => no\nisolation => repeatable_read\nlogging => yes\n"
        "slow_query_limit => 100\ncache_type => roundrobin\ncache_size => 10\n",
    )
    s = read_config("asterisk", {}, d)
    assert os.environ["ARA_ODBC_TEST_ENV"] == "here"
    assert (s.dsn, s.username, s.password) == ("asterisk-connector", "myuser", "mypass")
    assert (s.sanitysql, s.max_connections, s.connect_timeout) == ("select 2", 20, 3.0)
    assert (s.negative_connection_cache, s.isolation, s.logging) == (300.0, "repeatable_read", True)
    assert (s.slow_query_limit, s.lifo, s.cache_size) == (100, False, 10)
    assert s.backslash_is_escape is False
    assert "mypass" not in repr(s)


def test_asterisk_defaults() -> None:
    s = read_config("c", {"dsn": "x"}, None)
    assert s.max_connections == 1  # Asterisk's default
    assert (s.sanitysql, s.connect_timeout, s.negative_connection_cache) == ("select 1", 10.0, 0.0)
    assert (s.lifo, s.cache_size, s.slow_query_limit, s.codec) == (True, -1, 5000, True)
    assert s.username is None and s.password is None
    assert s.order_multi_row_results_by_initial_column


def test_sample_text_parses_in_a_config_dir(asterisk_corpus: Path, tmp_path: Path) -> None:
    text = (asterisk_corpus / CORPUS_SAMPLE).read_text()
    d = _write(tmp_path, text)
    with pytest.raises(ConfigError, match="disabled") as err:
        read_config("asterisk", {}, d)
    assert err.value.file is not None and err.value.file.endswith("res_odbc.conf")
    assert err.value.line is not None
    s = read_config("sqlserver", {"enabled": "yes"}, d)
    assert (s.dsn, s.max_connections) == ("mickeysoft", 5)
    s = read_config("mysql2", {"enabled": "yes"}, d)
    assert (s.username, s.password, s.pre_connect) == ("myuser", "mypass", True)


def test_unknown_key_names_file_and_line(tmp_path: Path) -> None:
    d = _write(tmp_path, "[a]\ndsn => x\n\nmaxconnections => 3\n")
    with pytest.raises(ConfigError, match=r"unknown setting 'maxconnections'") as err:
        read_config("a", {}, d)
    assert err.value.file == str(d / "res_odbc.conf") and err.value.line == 4


def test_bad_values_name_file_and_line(tmp_path: Path) -> None:
    for line, message in (
        ("max_connections => 0", "max_connections must be at least 1"),
        ("isolation => chaos", "isolation must be one of"),
        ("cache_type => lifo", "cache_type must be stack, rr, roundrobin or queue"),
        ("pre-connect => maybe", "pre-connect must be yes or no"),
        ("connect_timeout => soon", "connect_timeout must be a number"),
    ):
        d = _write(tmp_path, f"[a]\ndsn => x\n{line}\n")
        with pytest.raises(ConfigError, match=message) as err:
            read_config("a", {}, d)
        assert err.value.line == 3


def test_legacy_keys_only_warn(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    d = _write(tmp_path, "[a]\ndsn => x\npooling => yes\nshare_connections => no\nlimit => 5\n")
    with caplog.at_level(logging.WARNING):
        s = read_config("a", {}, d)
    assert s.dsn == "x"
    assert sum("obsolete" in r.message for r in caplog.records) == 3


def test_no_dsn(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no dsn"):
        read_config("a", {}, None)
    d = _write(tmp_path, "[a]\nusername => u\n")
    with pytest.raises(ConfigError, match="no dsn") as err:
        read_config("a", {}, d)
    assert err.value.line == 1


def test_res_config_odbc(tmp_path: Path) -> None:
    d = _write(tmp_path, "[a]\ndsn => x\n")
    _write(d, "[general]\norder_multi_row_results_by_initial_column=no\n", "res_config_odbc.conf")
    assert read_config("a", {}, d).order_multi_row_results_by_initial_column is False
    _write(d, "[general]\norder_by=no\n", "res_config_odbc.conf")
    with pytest.raises(ConfigError, match="unknown setting 'order_by'") as err:
        read_config("a", {}, d)
    assert err.value.file is not None and err.value.file.endswith("res_config_odbc.conf")


def test_code_overrides_the_file_and_unknown_code_keys_fail(tmp_path: Path) -> None:
    d = _write(tmp_path, "[a]\ndsn => x\nmax_connections => 2\n")
    assert read_config("a", {"max_connections": "7"}, d).max_connections == 7
    with pytest.raises(ConfigError, match="unknown setting 'dbhost'"):
        read_config("a", {"dbhost": "h"}, d)


def test_connection_strings() -> None:
    s = ClassSettings(name="a", dsn="asterisk", username="u;x", password="p}w")
    assert connection_string(s) == "DSN=asterisk;UID={u;x};PWD={p}}w}"
    full = ClassSettings(name="a", dsn="Driver=PostgreSQL Unicode;Servername=db;PWD=secret;")
    assert connection_string(full) == "Driver=PostgreSQL Unicode;Servername=db;PWD=secret"
    assert describe_dsn(full.dsn) == "Driver=PostgreSQL Unicode; Servername=db"
    assert "secret" not in full.label and "secret" not in repr(full)


def test_a_connection_string_in_the_file(tmp_path: Path) -> None:
    d = _write(tmp_path, "[a]\ndsn => Driver=SQLite3\\;Database=/tmp/x.db\n")
    assert read_config("a", {}, d).dsn == "Driver=SQLite3;Database=/tmp/x.db"
