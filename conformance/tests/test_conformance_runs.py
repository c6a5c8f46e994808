"""The suite's verdicts: it passes on the built-in drivers (by name) and catches every broken
driver for the reason it is broken. The runs happen in subprocesses started by conftest.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from broken import BROKEN, CASES

import ara_conformance.suite  # noqa: F401  (fills the registry of standard tests)
from ara_conformance._areas import STANDARD
from ara_realtime import Capabilities


def _by_test(target: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for rec in target["tests"]:
        out.setdefault(rec["name"], []).append(rec)
    return out


def _honest(target: dict[str, Any]) -> None:
    """Nothing the driver does not declare was counted as passed."""
    declared = Capabilities.from_dict(target["capabilities"])
    for rec in target["tests"]:
        if rec["status"] == "passed":
            missing = STANDARD[rec["name"]].needs.missing(declared)
            assert missing is None, f"{rec['nodeid']} passed although {missing}"
    counted = sum(target["totals"].values())
    assert counted == sum(sum(a.values()) for a in target["areas"].values())


@pytest.mark.parametrize("driver", ["sqlite3", "memory"])
def test_suite_passes_on_builtin_driver_by_name(suite_runs: Any, driver: str) -> None:
    run = suite_runs[driver].wait()
    out = run.output()
    assert run.returncode == 0, out[-6000:]
    data = run.data()
    target = data["targets"][driver]
    totals = target["totals"]
    assert totals["failed"] == 0 and totals["not_run"] == 0, totals
    assert totals["passed"] >= 70, totals
    assert data["problems"] == []
    assert f"ara-conformance: {driver}" in out, "the per-area summary was not printed"
    _honest(target)
    xfailed = {t["name"] for t in target["tests"] if t["status"] == "xfailed"}
    status = {t["name"]: t["status"] for t in target["tests"]}
    assert not xfailed, xfailed
    if driver == "sqlite3":
        assert target["outage"].startswith("real"), "sqlite3 must be taken down for real"
        # the declared deviation is verified, and the numeric test is not counted as passed
        assert status["test_unsigned_64_bit_columns_declared_as_text"] == "passed"
        assert status["test_unsigned_64_bit_columns_order_numerically"] == "unsupported"
    else:
        assert target["outage"].startswith("fault injection")
        assert status["test_unsigned_64_bit_columns_order_numerically"] == "passed"
        assert status["test_unsigned_64_bit_columns_declared_as_text"] == "unsupported"


@pytest.fixture(scope="module")
def broken(suite_runs: Any) -> dict[str, Any]:
    run = suite_runs["broken"].wait()
    assert run.returncode == 1, "the run over broken drivers must fail:\n" + run.output()[-4000:]
    data: dict[str, Any] = run.data()
    return data


@pytest.mark.parametrize("name", [c.name for c in BROKEN])
def test_broken_driver_is_caught_for_its_reason(broken: dict[str, Any], name: str) -> None:
    case = CASES[name]
    target = broken["targets"][name]
    tests = _by_test(target)
    for test, fragment in case.fail.items():
        records = tests.get(test, [])
        failed = [r for r in records if r["status"] == "failed"]
        assert failed, f"{name}: {test} did not fail: {[r['status'] for r in records]}"
        messages = [r["message"] for r in failed]
        assert any(fragment in m for m in messages), f"{name}: {test} failed otherwise: {messages}"
        area = STANDARD[test].needs.area
        assert target["areas"][area]["failed"] >= 1, f"the {area} summary hides the failure"
    for test in case.passes:
        statuses = [r["status"] for r in tests.get(test, [])]
        assert statuses and set(statuses) <= {"passed", "not_run"} and "passed" in statuses, (
            f"{name}: {test} should pass (the driver is broken elsewhere): {statuses}"
        )
    for test in case.unsupported:
        seen = {r["status"] for r in tests.get(test, [])}
        assert seen == {"unsupported"}, f"{name}: {test}: {seen}"
    if not case.fail:
        assert target["totals"]["failed"] == 0, f"{name} is a correct driver: {target['totals']}"
    _honest(target)


def test_every_broken_driver_was_run(broken: dict[str, Any]) -> None:
    assert set(broken["targets"]) == set(CASES)


def test_the_catalogue_is_documented() -> None:
    """docs/conformance.md lists every broken driver, with the tests that catch it."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "conformance.md").read_text()
    table = docs[docs.index("| broken driver | its defect | caught by |") :].split("\n\n")[0]
    listed: dict[str, str] = {}
    for line in table.splitlines()[2:]:
        names, _defect, caught = (c.strip() for c in line.strip("|").split(" | "))
        for name in names.split(", "):
            listed[name] = caught
    assert set(listed) == set(CASES), f"documented {sorted(listed)}, catalogue {sorted(CASES)}"
    for name, case in CASES.items():
        for test in case.fail:
            assert f"`{test}" in listed[name], f"{name}: {test} is not in the docs' table"
