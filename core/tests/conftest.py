from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from ara_realtime.plugins import Plugins

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "pbx"


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
