"""``Realtime.status()`` and ``realtime status``: each backend's state, pool and server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ara_realtime import BackendError, Realtime
from ara_realtime.cli import EXIT_BACKEND, EXIT_OK, EXIT_USAGE, main
from ara_realtime.plugins import Plugins


def _write(etc: Path, good: Path, bad: Path) -> None:
    (etc / "extconfig.conf").write_text(
        "[settings]\nsippeers => sqlite3,main,peers,1\nsippeers => sqlite3,spare,peers,2\n"
        "voicemail => sqlite3,main\n"
    )
    (etc / "res_config_sqlite3.conf").write_text(
        f"[main]\ndbfile = {good}\nrequirements = createclose\n[spare]\ndbfile = {bad}\n"
    )


@pytest.fixture
def etc(tmp_path: Path) -> Path:
    _write(tmp_path, tmp_path / "good.db", tmp_path / "missing" / "spare.db")
    return tmp_path


def test_status_probes_every_backend(etc: Path, plugins: Plugins) -> None:
    rt = Realtime.from_config_dir(etc, plugins=plugins)
    before = {s.backend: s for s in rt.status(probe=False)}
    assert {s.state for s in before.values()} == {"not connected"}
    report = {s.backend: s for s in rt.status()}
    main_ = report["sqlite3:main"]
    assert main_.state == "up" and main_.connected
    assert main_.server is not None and main_.server.startswith("SQLite 3.")
    assert main_.mappings == ("sippeers", "voicemail")
    assert main_.pools["pool"].limit == 15 and main_.pools["pool"].in_use == 0
    spare = report["sqlite3:spare"]
    assert spare.state == "down" and "unable to open database file" in (spare.error or "")
    assert spare.mappings == ("sippeers (priority 2)",)
    assert spare.failures == 0  # a probe never changes a backend's health
    rt.close()


def test_status_shows_failures_and_back_off(tmp_path: Path, plugins: Plugins) -> None:
    rt = Realtime(
        {"peers": "sqlite3,gone"},
        {"sqlite3": {"gone": {"dbfile": str(tmp_path / "no" / "such.db")}}},
        plugins=plugins,
        backoff=30,
        max_backoff=30,
    )
    for _ in range(3):
        with pytest.raises(BackendError):
            rt.load("peers", name="alice")
    (s,) = rt.status(probe=False)
    assert s.state == "backing off" and s.failures == 3 and s.total_failures == 3
    assert s.retry_in is not None and 0 < s.retry_in <= 30
    assert "unable to open database file" in (s.error or "")


def test_the_status_command(etc: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config-dir", str(etc), "status", "--json"]) == EXIT_BACKEND
    data = {d["backend"]: d for d in json.loads(capsys.readouterr().out)}
    assert data["sqlite3:main"]["state"] == "up"
    assert data["sqlite3:main"]["pools"]["pool"]["limit"] == 15
    assert data["sqlite3:spare"]["state"] == "down"
    assert main(["--config-dir", str(etc), "status", "--plain"]) == EXIT_BACKEND
    plain = capsys.readouterr().out
    assert "sqlite3:main: up, SQLite 3." in plain and "serves sippeers" in plain
    assert "sqlite3:spare: down" in plain and "error: " in plain
    _write(etc, etc / "good.db", etc / "spare.db")  # both reachable now
    assert main(["--config-dir", str(etc), "status"]) == EXIT_OK


def test_a_backend_with_wrong_settings_makes_status_exit_2(
    etc: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A configuration error is the user's to fix (exit 2, as ``load`` gives), even when it
    only shows when the backend is opened; the other backends are still reported."""
    (etc / "res_config_sqlite3.conf").write_text(
        f"[main]\ndbfile = {etc / 'good.db'}\n[spare]\ndbfile = {etc / 's.db'}\n"
        "requirements = sometimes\n"
    )
    assert main(["--config-dir", str(etc), "status", "--json"]) == EXIT_USAGE
    data = {d["backend"]: d for d in json.loads(capsys.readouterr().out)}
    assert data["sqlite3:main"]["state"] == "up" and not data["sqlite3:main"]["misconfigured"]
    spare = data["sqlite3:spare"]
    assert spare["state"] == "down" and spare["misconfigured"]
    assert "requirements must be one of" in spare["error"]
