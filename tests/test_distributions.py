"""Every published distribution builds, installs alone beside the core, and works outside the repo.

These are pytest tests rather than steps of ``scripts/test`` on purpose: each distribution is its
own test, so a failure names it, the run's counts include these checks, ``-k`` selects them
(``-k distributions``) or leaves them out (``scripts/test -k failover`` builds nothing), and they
share the session's temporary directories. Each wheel is built once (``uv build``: sdist, then
the wheel from the sdist, so a file missing from the sdist shows up) and every venv is created
and filled by uv from its cache; the lot takes well under a minute.

Which distributions: the workspace members of the root pyproject.toml, minus those classified
``Private :: Do Not Upload`` (``testing/``). A new plugin is checked without touching this file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

REPO = Path(__file__).resolve().parents[1]
CORE = "ara-realtime"
SUITE = "ara-conformance"
TIMEOUT = 600  # seconds for one build, install or suite run: a hung index fails, never stalls


@dataclass(frozen=True)
class Dist:
    """One published distribution, as its pyproject.toml declares it."""

    name: str
    path: Path
    modules: tuple[str, ...]  # import names (the wheel's packages)
    drivers: tuple[str, ...]  # ara_realtime.drivers entry points
    targets: tuple[str, ...]  # ara_conformance.targets entry points


def _published() -> list[Dist]:
    workspace = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    dists = []
    for member in workspace["tool"]["uv"]["workspace"]["members"]:
        for path in sorted(REPO.glob(member)):
            meta = tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))
            project = meta["project"]
            if any(c.startswith("Private ::") for c in project.get("classifiers", [])):
                continue
            packages = meta["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
            eps = project.get("entry-points", {})
            dists.append(
                Dist(
                    name=project["name"],
                    path=path,
                    modules=tuple(Path(p).name for p in packages),
                    drivers=tuple(sorted(eps.get("ara_realtime.drivers", {}))),
                    targets=tuple(sorted(eps.get("ara_conformance.targets", {}))),
                )
            )
    return dists


DISTS = _published()
BY_NAME = {d.name: d for d in DISTS}


def _clean_env() -> dict[str, str]:
    """The environment of a user's shell: no workspace venv, no test or driver configuration."""
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("ARA_")}


def _run(cmd: list[str | Path], cwd: Path | None = None) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip().splitlines()
        pytest.fail(
            f"exit {proc.returncode}: {' '.join(map(str, cmd))}\n" + "\n".join(output[-60:]),
            pytrace=False,
        )
    return proc.stdout


class Wheels:
    """Builds each distribution once per session, into one directory."""

    def __init__(self, uv: str, out: Path) -> None:
        self.uv, self.out = uv, out
        self._built: dict[str, Path] = {}

    def __getitem__(self, name: str) -> Path:
        if name not in self._built:
            dist = BY_NAME[name]
            dest = self.out / name
            # --no-sources: the metadata a user gets from PyPI, not the workspace's paths.
            _run([self.uv, "build", "--quiet", "--no-sources", "--out-dir", dest, dist.path])
            (wheel,) = dest.glob("*.whl")
            self._built[name] = wheel
        return self._built[name]

    def venv(self, where: Path, *names: str) -> Path:
        """A fresh venv holding exactly these wheels (and what they require from the index)."""
        _run([self.uv, "venv", "--quiet", "--python", sys.executable, where])
        python = where / "bin" / "python"
        _run([self.uv, "pip", "install", "--quiet", "--python", python, *(self[n] for n in names)])
        return python


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Wheels:
    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        pytest.fail("these tests need uv: run scripts/test (it sets UV), or put uv on PATH")
    return Wheels(uv, tmp_path_factory.mktemp("wheels"))


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_wheel_carries_the_license(wheels: Wheels, name: str) -> None:
    wheel = wheels[name]
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (dist_info,) = {n.split("/")[0] for n in names if ".dist-info/" in n}
        metadata = zf.read(f"{dist_info}/METADATA").decode().splitlines()
        license_path = f"{dist_info}/licenses/LICENSE"
        assert license_path in names, f"{wheel.name} has no {license_path}"
        license_text = zf.read(license_path)
    assert "License-Expression: GPL-2.0-or-later" in metadata
    assert "License-File: LICENSE" in metadata
    assert license_text == (REPO / "LICENSE").read_bytes(), f"{name}: LICENSE differs from the root"


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_wheel_installs_alone_beside_the_core(wheels: Wheels, name: str, tmp_path: Path) -> None:
    dist = BY_NAME[name]
    python = wheels.venv(tmp_path / "venv", *dict.fromkeys([CORE, name]))

    check = (
        "import importlib, importlib.metadata as md, json, sys\n"
        "for m in sys.argv[2:]: importlib.import_module(m)\n"
        "eps = md.distribution(sys.argv[1]).entry_points\n"
        "print(json.dumps(sorted(e.name for e in eps if e.group == 'ara_conformance.targets')))\n"
    )
    targets = json.loads(_run([python, "-c", check, name, *dist.modules], cwd=tmp_path))
    assert tuple(targets) == dist.targets

    listed = json.loads(_run([python.parent / "realtime", "--json", "drivers"], cwd=tmp_path))
    broken = {d["name"]: d["error"] for d in listed if d["error"]}
    assert not broken, f"drivers that fail to load: {broken}"
    ours = sorted(d["name"] for d in listed if d["distribution"] == name)
    assert tuple(ours) == dist.drivers
    expected = set(BY_NAME[CORE].drivers) | set(dist.drivers)
    assert {d["name"] for d in listed} == expected


def test_conformance_suite_runs_by_name_outside_the_repository(
    wheels: Wheels, tmp_path: Path
) -> None:
    """The README's promise: with only the core and the suite installed, from any directory."""
    python = wheels.venv(tmp_path / "venv", CORE, SUITE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    suite = [
        "-p",
        "ara_conformance",
        "--pyargs",
        "ara_conformance.suite",
        "--ara-driver",
        "sqlite3",
    ]
    _run([python.parent / "pytest", *suite], cwd=elsewhere)
