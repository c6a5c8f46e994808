from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# the broken drivers: `import broken` (a directory of their own, which mypy's mypy_path names
# too, so that `broken` is one top-level package for the type check as at run time)
DRIVERS = HERE / "drivers"
sys.path.insert(0, str(DRIVERS))

pytest_plugins = ["pytester"]


@dataclass
class Run:
    """A suite run in a subprocess, started in the background."""

    name: str
    args: list[str]
    report: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    seconds: float = 0.0
    returncode: int | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(DRIVERS), os.environ.get("PYTHONPATH", "")]),
        }
        for key in [k for k in env if k.startswith("ARA_CONFORMANCE_")]:
            del env[key]
        self.started = time.monotonic()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pytest", *self.args, "--ara-report", str(self.report)],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait(self, timeout: float = 600) -> Run:
        assert self.proc is not None
        if self.returncode is None:
            self.returncode = self.proc.wait(timeout=timeout)
            self.seconds = time.monotonic() - self.started
        return self

    def data(self) -> dict[str, Any]:
        self.wait()
        assert self.report.exists(), f"{self.name}: no report; output:\n{self.output()}"
        data: dict[str, Any] = json.loads(self.report.read_text())
        return data

    def output(self) -> str:
        return self.log.read_text(errors="replace")


_COMMON = ["-p", "ara_conformance", "-p", "no:cacheprovider", "-q", "--ara-profile", "ci"]
#: By-name runs of the built-in drivers, exactly as a user outside the repository runs them
#: (sqlite3's uinteger8 deviation is a declared capability, not a flag of this run).
BY_NAME = {
    "sqlite3": [
        "--pyargs",
        "ara_conformance.suite",
        "--ara-driver",
        "sqlite3",
    ],
    "memory": [
        "--pyargs",
        "ara_conformance.suite",
        "--ara-driver",
        "memory",
    ],
}


_RUNS: dict[str, Run] = {}


def _start_runs(config: pytest.Config) -> None:
    """Start sqlite3 and memory by name, and the broken drivers, in the background, together."""
    where = Path(tempfile.mkdtemp(prefix="ara-suite-runs-"))
    # The by-name runs of the built-in drivers are conformance runs of the test command: with
    # ARA_CONFORMANCE_REPORT_DIR set (scripts/test sets it), their reports feed the matrix
    # too. The broken drivers' never do.
    report_dir = os.environ.get("ARA_CONFORMANCE_REPORT_DIR", "").strip()
    matrix = ["--ara-report-dir", report_dir] if report_dir else []
    for name, args in BY_NAME.items():
        _RUNS[name] = Run(
            name, [*_COMMON, *args, *matrix], where / f"{name}.json", where / f"{name}.log"
        )
    _RUNS["broken"] = Run(
        "broken",
        [*_COMMON, str(DRIVERS / "broken" / "suite_broken.py")],
        where / "broken.json",
        where / "broken.log",
    )
    for run in _RUNS.values():
        run.start()

    def stop() -> None:
        for run in _RUNS.values():
            if run.proc is not None and run.proc.poll() is None:
                run.proc.kill()
                run.proc.wait()
        _RUNS.clear()
        shutil.rmtree(where, ignore_errors=True)

    config.add_cleanup(stop)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Start the long runs as soon as we know they are wanted, so that they overlap with the
    # other tests of the session (this machine has two cores).
    if not _RUNS and any("suite_runs" in getattr(i, "fixturenames", ()) for i in items):
        _start_runs(config)


@pytest.fixture(autouse=True)
def _no_outer_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs (pytester) must not see this session's suite configuration (a report
    directory would receive their made-up targets)."""
    for key in [k for k in os.environ if k.startswith("ARA_CONFORMANCE_")]:
        monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def suite_runs(pytestconfig: pytest.Config) -> dict[str, Run]:
    """The background suite runs (by name on sqlite3 and memory; the broken drivers)."""
    if not _RUNS:
        _start_runs(pytestconfig)
    return _RUNS
