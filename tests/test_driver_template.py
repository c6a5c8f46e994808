"""``realtime new-driver NAME`` makes a package that passes the conformance suite once its
storage is filled in: generated here, given a tiny storage (a JSON file per table), installed
into a fresh venv beside the core and the suite, and its own tests run there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ara_realtime.cli import main

REPO = Path(__file__).resolve().parents[1]

#: What an author writes: storage.py for tables kept as JSON files in a directory.
TINY_STORAGE = '''"""Tables as JSON files in a directory: {"columns": [...], "rows": [...]}."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from ara_realtime import BackendError, ConfigError
from ara_realtime.datatypes import RQ, Requirement

__all__ = ["Column", "Storage"]

Column = tuple[str, Requirement]
_locks: dict[str, threading.RLock] = {}
_guard = threading.Lock()


class Storage:
    def __init__(self, database: str, settings: Mapping[str, str]) -> None:
        if not settings.get("directory"):
            raise ConfigError(f"database {database!r}: no directory set")
        self.directory = Path(settings["directory"])
        with _guard:
            self._lock = _locks.setdefault(str(self.directory), threading.RLock())

    @contextlib.contextmanager
    def lock(self, *, write: bool) -> Iterator[None]:
        with self._lock:
            try:
                fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT)
            except OSError as exc:
                raise BackendError(f"storage {self.directory.name!r} unreachable") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
                yield
            finally:
                os.close(fd)

    def _file(self, table: str) -> Path:
        return self.directory / f"{table}.json"

    def _load(self, table: str) -> dict | None:
        if not self.directory.is_dir():
            raise BackendError(f"storage {self.directory.name!r} unreachable")
        try:
            return json.loads(self._file(table).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def _save(self, table: str, data: dict) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.directory)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, self._file(table))

    def columns(self, table: str) -> list[Column] | None:
        data = self._load(table)
        if data is None:
            return None
        return [(c, Requirement(RQ[t], s)) for c, t, s in data["columns"]]

    def create(self, table: str, columns: list[Column]) -> None:
        data = self._load(table) or {"rows": []}
        data["columns"] = [[c, r.type.name, r.size] for c, r in columns]
        self._save(table, data)

    def read(self, table: str) -> list[dict[str, str]]:
        data = self._load(table)
        return [] if data is None else data["rows"]

    def write(self, table: str, rows: list[dict[str, str]]) -> None:
        data = self._load(table)
        assert data is not None
        data["rows"] = rows
        self._save(table, data)

    def close(self) -> None:
        pass
'''


def _clean_env() -> dict[str, str]:
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("ARA_")}


def _run(
    cmd: list[str | Path], cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_new_driver_refuses_bad_names_and_full_directories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-driver", "Bad-Name", "--dir", str(tmp_path / "x")]) == 2
    assert "lower-case letters" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    assert main(["new-driver", "shelf", "--dir", str(tmp_path / "full")]) == 2
    assert "nothing was written" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]


def test_a_driver_from_the_template_passes_the_suite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = tmp_path / "ara-shelf"
    assert main(["--json", "new-driver", "shelf", "--dir", str(package)]) == 0
    listed = json.loads(capsys.readouterr().out)
    files = {str(Path(p).relative_to(package)) for p in listed["files"]}
    assert files == {
        "pyproject.toml",
        "README.md",
        ".github/workflows/conformance.yml",
        "src/ara_shelf/__init__.py",
        "src/ara_shelf/connection.py",
        "src/ara_shelf/storage.py",
        "src/ara_shelf/conformance.py",
        "src/ara_shelf/py.typed",
        "tests/conftest.py",
        "tests/test_conformance.py",
    }
    pyproject = (package / "pyproject.toml").read_text()
    assert 'shelf = "ara_shelf:driver"' in pyproject
    assert 'shelf = "ara_shelf.conformance:make_target"' in pyproject
    assert "pytest --ara-profile ci" in (package / ".github/workflows/conformance.yml").read_text()
    assert "NotImplementedError" in (package / "src/ara_shelf/storage.py").read_text()
    (package / "src/ara_shelf/storage.py").write_text(TINY_STORAGE, encoding="utf-8")

    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        pytest.fail("this test needs uv: run scripts/test (it sets UV), or put uv on PATH")
    venv = tmp_path / "venv"
    made = _run([uv, "venv", "--quiet", "--python", sys.executable, venv], tmp_path)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    install = _run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            python,
            REPO / "core",
            REPO / "conformance",
            package,
        ],
        tmp_path,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    report = tmp_path / "shelf.json"
    run = _run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--ara-report", report],
        package,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    target = json.loads(report.read_text())["targets"]["shelf"]
    totals = target["totals"]
    assert totals["failed"] == 0 and totals["not_run"] == 0 and totals["passed"] >= 90, totals
    assert target["backdoor"] == "write"
    assert target["outage"].startswith("real"), target["outage"]
    assert target["distribution"] == "ara-shelf"
