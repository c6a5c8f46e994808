from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ara_realtime import Realtime
from ara_realtime.drivers import memory
from ara_realtime.plugins import Plugins

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "pbx"

#: A sippeers-like table used by the contract tests on every built-in driver.
PEER_COLUMNS = {
    "name": ("char", 40),
    "host": ("char", 40),
    "secret": ("char", 40),
    "context": ("char", 40),
    "port": ("integer4", 11),
    "lastms": ("integer4", 11),
    "session-timers": ("char", 9),
    "100rel": ("char", 10),
    "@body": ("char", 40),
}


def build_example(dest: Path) -> Path:
    """Copy the example PBX configuration into ``dest`` and build its database there."""
    for name in ("extconfig.conf", "res_config_sqlite3.conf"):
        shutil.copy(EXAMPLE / name, dest / name)
    conn = sqlite3.connect(dest / "pbx.db")
    conn.executescript((EXAMPLE / "pbx.sql").read_text())
    conn.close()
    return dest


@pytest.fixture
def pbx_dir(tmp_path: Path) -> Path:
    return build_example(tmp_path)


@pytest.fixture
def plugins() -> Plugins:
    """A private plugin manager (wrappers registered in one test stay there)."""
    return Plugins()


@pytest.fixture(params=["sqlite3", "memory"])
def rt(request: pytest.FixtureRequest, tmp_path: Path, plugins: Plugins) -> Iterator[Realtime]:
    """A Realtime with family ``peers`` -> an empty table on each built-in driver."""
    driver = request.param
    db = f"test-{tmp_path.name}"
    settings = {"sqlite3": {db: {"dbfile": str(tmp_path / "t.db"), "requirements": "createclose"}}}
    r = Realtime(
        {"peers": f"{driver},{db},peers", "ast.conf": f"{driver},{db},ast_config"},
        settings,
        plugins=plugins,
    )
    assert r.require("peers", PEER_COLUMNS)
    yield r
    r.close()
    memory.reset(db)
