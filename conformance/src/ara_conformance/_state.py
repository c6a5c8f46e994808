"""What one pytest run of the suite found: per target, per area, per test; and the report.

Statuses: ``passed``; ``failed`` (any failing phase, a strict XPASS, an error); ``xfailed``
(a known bug, declared by the target, still failing); ``unsupported`` (the driver does not
declare what the test needs); ``not_run`` (skipped for any other reason: no back door, not
configured, not collected, deselected, overridden by the author). A skip is never a pass.
"""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ._areas import AREA_TITLES, AREAS, STANDARD, STATUSES

__all__ = ["REPORT_FORMAT", "STATE_KEY", "Record", "State"]

#: Version of the JSON report's layout (bumped on incompatible changes).
REPORT_FORMAT = 1
NOT_CONFIGURED = "not configured"


@dataclass
class Record:
    """The outcome of one test item."""

    nodeid: str
    name: str
    area: str
    target: str | None = None
    status: str = "not_run"
    reason: str = ""
    message: str = ""
    duration: float = 0.0
    overridden: str | None = None


@dataclass
class State:
    """Everything the plugin learns during one run."""

    profile: str = "ci"
    configured_driver: str | None = None
    #: nodeid -> (test name, area, class qualname) for every collected standard test.
    items: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    #: nodeid -> (status, reason) decided by the gate before a skip.
    marks: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: nodeid -> target name (set by the gate).
    bound: dict[str, str] = field(default_factory=dict)
    #: nodeid -> reason, for standard tests the author overrode with a recorded reason.
    overridden: dict[str, str] = field(default_factory=dict)
    #: class qualname -> standard test names deleted or overridden without a reason.
    guarded: dict[str, list[str]] = field(default_factory=dict)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[str, Record] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unconfigured: bool = False

    # -- recording ------------------------------------------------------------------------

    def record(self, report: pytest.TestReport) -> None:
        """Fold one phase report into the item's record."""
        known = self.items.get(report.nodeid)
        if known is None:
            return
        name, area, _ = known
        rec = self.records.get(report.nodeid)
        if rec is None:
            rec = self.records[report.nodeid] = Record(report.nodeid, name, area)
        rec.target = self.bound.get(report.nodeid, rec.target)
        rec.overridden = self.overridden.get(report.nodeid)
        rec.duration += report.duration
        xfail = getattr(report, "wasxfail", None)
        if report.failed:
            rec.status = "failed"
            rec.message = _short(report)
            if xfail is None and "XPASS(strict)" in rec.message:
                rec.reason = "a known bug declared for this test did not fail"
            return
        if rec.status == "failed":
            return
        if report.skipped:
            if xfail is not None:
                rec.status, rec.reason = "xfailed", str(xfail)
                return
            status, reason = self.marks.get(report.nodeid, ("not_run", _skip_reason(report)))
            if self.unconfigured and report.nodeid not in self.marks:
                reason = NOT_CONFIGURED
            rec.status, rec.reason = status, reason
            return
        if report.when == "call" and report.passed:
            if rec.overridden is not None:
                rec.status, rec.reason = "not_run", f"overridden by the author: {rec.overridden}"
            else:
                rec.status = "passed"

    # -- the report -----------------------------------------------------------------------

    def target_names(self) -> list[str]:
        names = {r.target for r in self.records.values() if r.target}
        return sorted(names | set(self.targets))

    def summary(self) -> dict[str, Any]:
        """The JSON report (see docs/conformance.md, "Report format")."""
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

        def ver(dist: str) -> str | None:
            try:
                return version(dist)
            except PackageNotFoundError:
                return None

        targets: dict[str, Any] = {}
        for name in self.target_names():
            records = [r for r in self.records.values() if r.target == name]
            seen = {r.name for r in records}
            missing = sorted(n for n in STANDARD if n not in seen)
            areas = {a: dict.fromkeys(STATUSES, 0) for a in AREAS}
            for rec in records:
                areas[rec.area][rec.status] += 1
            for test in missing:
                areas[STANDARD[test].needs.area]["not_run"] += 1
            tests = [asdict(r) for r in sorted(records, key=lambda r: r.nodeid)]
            tests.extend(
                {
                    "nodeid": None,
                    "name": test,
                    "area": STANDARD[test].needs.area,
                    "target": name,
                    "status": "not_run",
                    "reason": "not collected (deselected, deleted or its class not used)",
                    "message": "",
                    "duration": 0.0,
                    "overridden": None,
                }
                for test in missing
            )
            totals = dict.fromkeys(STATUSES, 0)
            for counts in areas.values():
                for status, n in counts.items():
                    totals[status] += n
            targets[name] = {
                **self.targets.get(name, {"name": name}),
                "areas": areas,
                "totals": totals,
                "tests": tests,
            }
        unbound = [r for r in self.records.values() if r.target is None]
        return {
            "format": REPORT_FORMAT,
            "suite": "ara-conformance",
            "suite_version": ver("ara-conformance"),
            "core_version": ver("ara-realtime"),
            "python": platform.python_version(),
            "profile": self.profile,
            "configured": not (self.unconfigured and not targets),
            "areas": dict(AREA_TITLES),
            "targets": targets,
            "not_configured": len(unbound) if self.unconfigured else 0,
            "problems": list(self.problems),
            "notes": list(self.notes),
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.summary(), indent=2, ensure_ascii=False) + "\n")

    def write_each(self, directory: Path) -> list[Path]:
        """One report per target in ``directory`` (``<target name>.json``, ``/`` as ``~``),
        each a whole report of the run holding that target only: how a run with several
        targets (a test session over many drivers) feeds the feature matrix."""
        directory.mkdir(parents=True, exist_ok=True)
        data = self.summary()
        written = []
        for name, target in data["targets"].items():
            path = directory / (re.sub(r"[^A-Za-z0-9._-]", "~", name) + ".json")
            path.write_text(
                json.dumps({**data, "targets": {name: target}}, indent=2, ensure_ascii=False) + "\n"
            )
            written.append(path)
        return written

    def lines(self) -> list[str]:
        """The terminal summary."""
        data = self.summary()
        out: list[str] = []
        if not data["targets"]:
            total = len(self.items)
            out.append(
                f"ara-conformance: {NOT_CONFIGURED} -- {total} standard tests not run "
                "(none passed). Give --ara-driver NAME, ARA_CONFORMANCE_DRIVER or "
                "[tool.ara-conformance] driver = ... in pyproject.toml."
            )
        for name, target in data["targets"].items():
            out.extend(_target_lines(name, target, data["profile"]))
        for problem in data["problems"]:
            out.append(f"PROBLEM: {problem}")
        out.extend(f"note: {n}" for n in data["notes"])
        return out


def _target_lines(name: str, target: dict[str, Any], profile: str) -> list[str]:
    dist = target.get("distribution")
    where = f" ({dist} {target.get('version')})" if dist else ""
    out = [f"ara-conformance: {name}{where}, profile {profile}"]
    head = (
        f"  {'area':<14}{'passed':>8}{'failed':>8}{'xfailed':>9}{'unsupported':>13}{'not run':>9}"
    )
    out.append(head)
    for area, counts in target["areas"].items():
        out.append(
            f"  {area:<14}{counts['passed']:>8}{counts['failed']:>8}{counts['xfailed']:>9}"
            f"{counts['unsupported']:>13}{counts['not_run']:>9}"
        )
    t = target["totals"]
    out.append(
        f"  {'total':<14}{t['passed']:>8}{t['failed']:>8}{t['xfailed']:>9}"
        f"{t['unsupported']:>13}{t['not_run']:>9}"
    )
    if "outage" in target:
        out.append(f"  outage: {target['outage']}; back door: {target.get('backdoor') or 'none'}")
    for reason, count in _reasons(target["tests"], "unsupported"):
        out.append(f"  unsupported ({count}): {reason}")
    for reason, count in _reasons(target["tests"], "not_run"):
        out.append(f"  not run ({count}): {reason}")
    for test in target["tests"]:
        if test["status"] == "xfailed":
            out.append(f"  xfailed: {test['name']}: {test['reason']}")
        elif test["status"] == "failed":
            out.append(f"  FAILED: {test['nodeid']}: {test['message'][:160]}")
    return out


def _reasons(tests: Iterable[dict[str, Any]], status: str) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for test in tests:
        if test["status"] == status:
            counts[test["reason"]] = counts.get(test["reason"], 0) + 1
    return sorted(counts.items())


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        text = str(longrepr[2])
        return text.removeprefix("Skipped: ")
    return "skipped"


def _short(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message).strip().replace("\n", " ")[:500]
    return str(report.longreprtext).strip().splitlines()[-1][:500] if report.longreprtext else ""


STATE_KEY = pytest.StashKey[State]()
