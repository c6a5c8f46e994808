"""odbc-specific settings on real ODBC drivers: connection strings, pre-connect, isolation,
slow-query logging, the codec switch, secrets kept out of errors, the driver listing."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ara_odbc import driver as driver_module
from ara_odbc.driver import OdbcConnection, pyodbc_module
from ara_realtime import BackendError, Realtime
from ara_realtime.plugins import Plugins
from ara_testservers import MariaDBServer
from ara_testservers.odbc import Dsn, OdbcFiles

_count = iter(range(10**6))


@pytest.fixture(params=["postgresql", "mariadb", "sqlite"])
def dsn(request: pytest.FixtureRequest) -> Dsn:
    name = {"postgresql": "odbc_pg", "mariadb": "odbc_mariadb", "sqlite": "odbc_sqlite"}
    fixture: Dsn = request.getfixturevalue(name[request.param])
    return fixture


@pytest.fixture
def make_rt() -> Iterator[Callable[..., Realtime]]:
    opened: list[Realtime] = []

    def make(settings: dict[str, str], table: str | None = None) -> Realtime:
        name = table or f"drv_{next(_count)}"
        rt = Realtime({"peers": f"odbc,cls,{name}"}, {"odbc": {"cls": settings}}, plugins=Plugins())
        opened.append(rt)
        return rt

    yield make
    for rt in opened:
        rt.close()


def _connection(rt: Realtime) -> OdbcConnection:
    conn = rt._backends[("odbc", "cls")].connection
    assert isinstance(conn, OdbcConnection)
    return conn


class _SlowClock:
    """Every reading 10 ms after the last: each statement looks slow (a fault-injected clock)."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        self.now += 0.01
        return self.now


def test_isolation_and_slow_query_logging(
    dsn: Dsn,
    make_rt: Callable[..., Realtime],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(driver_module, "time", _SlowClock())
    rt = make_rt(
        dsn.settings(
            requirements="createclose",
            isolation="serializable",
            logging="yes",
            slow_query_limit="5",
        )
    )
    with caplog.at_level(logging.WARNING, logger="ara_odbc.driver"):
        assert rt.require("peers", {"name": ("char", 20), "secret": ("char", 20)})
        for i in range(20):
            rt.store("peers", {"name": f"n{i}", "secret": "s3cr3t-value"})
    assert rt.load("peers", name="n3") == {"name": "n3", "secret": "s3cr3t-value"}
    slow = [r.getMessage() for r in caplog.records if "slow query" in r.getMessage()]
    assert any("INSERT INTO" in m and "(10 ms > slow_query_limit 5 ms)" in m for m in slow)
    assert all("s3cr3t-value" not in m for m in slow)  # the statement, never its values


def test_codec_off_stores_values_as_they_are(dsn: Dsn, make_rt: Callable[..., Realtime]) -> None:
    table = f"raw_{next(_count)}"
    rt = make_rt(dsn.settings(requirements="createclose", codec="no"), table)
    assert rt.require("peers", {"name": ("char", 20), "allow": ("char", 40)})
    rt.store("peers", {"name": "a", "allow": "ulaw;alaw^x"})
    assert not _connection(rt).capabilities.codec
    conn = pyodbc_module().connect(f"DSN={dsn.name}", autocommit=True)
    try:
        q = _connection(rt).dialect.quote
        cur = conn.cursor()
        cur.execute(f"SELECT {q('allow')} FROM {q(table)}")
        assert cur.fetchall()[0][0] == "ulaw;alaw^x"
        cur.execute(f"DROP TABLE {q(table)}")
    finally:
        conn.close()


def test_a_connection_string_instead_of_a_dsn(
    odbc_files: OdbcFiles, make_rt: Callable[..., Realtime], tmp_path: Path
) -> None:
    path = tmp_path / "direct.sqlite3"
    rt = make_rt({"dsn": f"Driver=SQLite3;Database={path}", "requirements": "createclose"})
    assert rt.require("peers", {"name": ("char", 20)})
    assert rt.store("peers", {"name": "x"}) == 1
    assert path.exists()
    assert "Driver=SQLite3" in _connection(rt).label


def test_wrong_password_is_a_backend_error_without_the_password(
    odbc_mariadb: Dsn, mariadb_server: MariaDBServer, make_rt: Callable[..., Realtime]
) -> None:
    rt = make_rt({"dsn": odbc_mariadb.name, "username": "ara", "password": "Wr0ng-pw;x"})
    with pytest.raises(BackendError, match="odbc class 'cls'") as err:
        rt.load("peers", name="x")
    assert "Wr0ng-pw" not in str(err.value)
    assert "Wr0ng-pw" not in repr(_connection(rt)) and "Wr0ng-pw" not in repr(
        _connection(rt).settings
    )


def test_pre_connect_failure_is_logged_not_raised(
    odbc_files: OdbcFiles, make_rt: Callable[..., Realtime], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ara_odbc.driver"):
        rt = make_rt({"dsn": "no_such_dsn", "pre-connect": "yes", "connect_timeout": "2"})
        with pytest.raises(BackendError, match="odbc class 'cls' \\(dsn no_such_dsn\\)"):
            rt.load("peers", name="x")
    assert any("pre-connect failed" in r.getMessage() for r in caplog.records)


def test_the_driver_is_listed_with_its_capabilities() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ara_realtime.cli", "--json", "drivers"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (odbc,) = [d for d in json.loads(out) if d["name"] == "odbc"]
    assert odbc["distribution"] == "ara-odbc" and not odbc["error"]


@pytest.mark.parametrize("server", ["odbc_pg", "odbc_mariadb"])
def test_require_uses_asterisks_char_sizes(
    server: str, request: pytest.FixtureRequest, make_rt: Callable[..., Realtime]
) -> None:
    dsn: Dsn = request.getfixturevalue(server)
    rt = make_rt(dsn.settings(requirements="createclose", codec="no"))
    assert rt.require("peers", {"port": ("char", 5)})  # VARCHAR(10): Asterisk's rule for 5
    rt.unload("peers")
    # a text column for an integer needs the type's width, whatever size is asked
    assert rt.require("peers", {"port": ("uinteger4", 5)})  # 10 characters
    assert not rt.require("peers", {"port": ("integer4", 5)})  # 11 > 10
    assert not rt.require("peers", {"port": ("datetime", 5)})  # 19 > 10
    assert rt.require("peers", {"port": ("char", 10)})
