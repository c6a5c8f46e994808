"""The pytest plugin: configuration sources, honest reporting, the override guard, known bugs,
reports, profiles, and the lint that every standard test is gated."""

from __future__ import annotations

import importlib.metadata as md
import inspect
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from ara_conformance import _profiles, suite
from ara_conformance._areas import AREAS, STANDARD, STANDARD_CLASSES, STATUSES, needs_of
from ara_conformance._plugin import load_settings
from ara_realtime.capabilities import ALL_OPERATIONS

ONE = "test_store_returns_one_and_rows_accumulate"
SUBSET = ["-k", f"{ONE} or test_update2_applies_every_condition"]
BASE = ["-p", "ara_conformance", "-p", "no:cacheprovider"]


def _report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _counts(**counts: int) -> dict[str, int]:
    """One area's counts as the report has them (every status, zero where not given)."""
    return {status: counts.get(status, 0) for status in STATUSES}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("DRIVER", "DATABASE", "SETTINGS", "PROFILE", "REPORT", "KNOWN_BUGS"):
        monkeypatch.delenv(f"ARA_CONFORMANCE_{key}", raising=False)


# -- packaging and gating -----------------------------------------------------------------


def test_plugin_is_opt_in_only() -> None:
    """No pytest11 entry point: the plugin never loads into unrelated runs."""
    for ep in md.entry_points(group="pytest11"):
        assert "ara_conformance" not in ep.value, ep


def test_without_the_plugin_the_options_do_not_exist(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-p", "no:cacheprovider", "--ara-driver", "memory")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --ara-driver*"])


def test_every_standard_test_is_gated_by_construction() -> None:
    """Each test_* of every area class carries @conformance(area, ops=...)."""
    seen = set()
    for cls in STANDARD_CLASSES:
        for name, func in vars(cls).items():
            if not name.startswith("test_"):
                continue
            needs = needs_of(func)
            assert needs is not None, f"{cls.__name__}.{name} has no @conformance gate"
            assert needs.area in AREAS
            assert needs.operations <= frozenset(ALL_OPERATIONS)
            assert inspect.getdoc(func), f"{cls.__name__}.{name} needs a docstring for authors"
            seen.add(name)
    assert seen == set(STANDARD)
    assert len(STANDARD) >= 60


def test_the_collected_classes_cover_every_area_class() -> None:
    by_name = [getattr(suite, name) for name in suite.__all__]
    covered = {base for cls in by_name for base in cls.__mro__ if base in STANDARD_CLASSES}
    assert covered == set(STANDARD_CLASSES)
    assert set(STANDARD_CLASSES) <= set(suite.ConformanceTests.__mro__)
    assert {STANDARD[n].needs.area for n in STANDARD} == set(AREAS)


def test_a_test_without_a_gate_is_refused() -> None:
    from ara_conformance._areas import register_standard
    from ara_conformance._base import ConformanceBase

    class Ungated(ConformanceBase):
        def test_something_new(self) -> None:
            """New."""

    with pytest.raises(TypeError, match="no @conformance"):
        register_standard(Ungated)


# -- configuration ------------------------------------------------------------------------


def test_settings_precedence_cli_env_pyproject() -> None:
    cfg = load_settings(
        {"driver": "sqlite3", "settings": ["dbfile=/cli.db"]},
        {
            "ARA_CONFORMANCE_SETTINGS": '{"busy_timeout": "5", "dbfile": "/env.db"}',
            "ARA_CONFORMANCE_PROFILE": "dev",
        },
        {
            "driver": "sqlite3",
            "settings": {"dbfile": "/py.db", "requirements": "warn"},
            "profile": "nightly",
            "known_bugs": {"test_x": "why"},
        },
    )
    assert cfg.driver == "sqlite3"
    assert cfg.settings == {"dbfile": "/cli.db", "busy_timeout": "5", "requirements": "warn"}
    assert cfg.profile == "dev"
    assert cfg.known_bugs == {"test_x": "why"}
    assert cfg.sources == {"driver": "cli", "profile": "env", "settings": "cli"}


def test_settings_of_another_driver_are_not_used() -> None:
    cfg = load_settings(
        {"driver": "memory"}, {}, {"driver": "sqlite3", "settings": {"dbfile": "x"}}
    )
    assert cfg.driver == "memory" and cfg.settings == {}


@pytest.mark.parametrize(
    ("options", "environ", "message"),
    [
        ({"settings": ["novalue"]}, {}, "KEY=VALUE"),
        ({}, {"ARA_CONFORMANCE_SETTINGS": "[1]"}, "JSON object"),
        ({}, {"ARA_CONFORMANCE_SETTINGS": "{"}, "JSON object"),
        ({}, {"ARA_CONFORMANCE_PROFILE": "weekly"}, "unknown ara-conformance profile"),
    ],
)
def test_bad_configuration_is_a_usage_error(
    options: dict[str, Any], environ: dict[str, str], message: str
) -> None:
    with pytest.raises(pytest.UsageError, match=message):
        load_settings(options, environ, {})


def test_unconfigured_run_skips_everything_with_one_reason(pytester: pytest.Pytester) -> None:
    report = pytester.path / "r.json"
    result = pytester.runpytest(
        *BASE, "--pyargs", "ara_conformance.suite", "-rs", "-v", "--ara-report", str(report)
    )
    assert not [line for line in result.outlines if " PASSED" in line], result.outlines
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) == 0 and outcomes.get("failed", 0) == 0
    assert outcomes["skipped"] >= 60
    result.stdout.fnmatch_lines(["*not configured -- * standard tests not run (none passed)*"])
    result.stdout.fnmatch_lines(
        ["SKIPPED [[]*[]] *ara_conformance/standard/*.py: ara-conformance is not configured*"]
    )
    reasons = {line.split(": ", 1)[1] for line in result.outlines if line.startswith("SKIPPED")}
    assert len(reasons) == 1, reasons  # one reason (pytest folds all but parametrized tests)
    data = _report(report)
    assert data["configured"] is False and data["targets"] == {}
    assert data["not_configured"] >= 60


def test_pyproject_table_configures_the_target(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        """
        [tool.ara-conformance]
        driver = "memory"
        database = "from_pyproject"
        profile = "ci"
        """
    )
    result = pytester.runpytest(*BASE, "--pyargs", "ara_conformance.suite", *SUBSET)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*ara-conformance: memory (ara-realtime *), profile ci*"])


def test_unknown_pyproject_key_is_refused(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.ara-conformance]\ndrvier = 'memory'\n")
    result = pytester.runpytest(*BASE, "--pyargs", "ara_conformance.suite")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown key(s) in [[]tool.ara-conformance[]]: drvier*"])


def test_environment_configures_the_target(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARA_CONFORMANCE_DRIVER", "sqlite3")
    monkeypatch.setenv(
        "ARA_CONFORMANCE_SETTINGS", json.dumps({"dbfile": str(pytester.path / "e.db")})
    )
    result = pytester.runpytest(*BASE, "--pyargs", "ara_conformance.suite", *SUBSET)
    result.assert_outcomes(passed=2)
    assert (pytester.path / "e.db").exists(), "settings from the environment were not used"


def test_the_command_line_wins_over_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARA_CONFORMANCE_DRIVER", "no-such-driver")
    monkeypatch.setenv(
        "ARA_CONFORMANCE_SETTINGS", json.dumps({"dbfile": str(pytester.path / "e.db")})
    )
    result = pytester.runpytest(
        *BASE,
        "--pyargs",
        "ara_conformance.suite",
        "--ara-driver",
        "sqlite3",
        "--ara-setting",
        f"dbfile={pytester.path / 'cli.db'}",
        *SUBSET,
    )
    result.assert_outcomes(passed=2)
    assert (pytester.path / "cli.db").exists()
    assert not (pytester.path / "e.db").exists(), "settings for another driver were used"


# -- the override guard -------------------------------------------------------------------


def _subclass(pytester: pytest.Pytester, body: str) -> None:
    pytester.makepyfile(
        test_mine=f"""
import pytest
from broken import Driver, DriverTarget
from ara_conformance.suite import WritesTests

class TestMine(WritesTests):
{body}

    @pytest.fixture(scope="class")
    @classmethod
    def ara_target(cls):
        yield DriverTarget("reference", Driver())
"""
    )


def test_override_without_reason_is_a_failure(pytester: pytest.Pytester) -> None:
    _subclass(pytester, f"    def {ONE}(self):\n        pass\n")
    report = pytester.path / "r.json"
    result = pytester.runpytest(*BASE, "--ara-report", str(report))
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [f"PROBLEM: *TestMine.{ONE}: standard test overridden without a recorded reason*"]
    )
    assert any(ONE in p for p in _report(report)["problems"])


def test_deleted_test_without_reason_is_a_failure(pytester: pytest.Pytester) -> None:
    _subclass(pytester, f"    {ONE} = None\n")
    result = pytester.runpytest(*BASE)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [f"PROBLEM: *{ONE}: standard test deleted without a recorded reason*"]
    )


def test_override_with_reason_is_reported_not_run(pytester: pytest.Pytester) -> None:
    body = (
        f"    overrides = {{'{ONE}': 'our storage keeps one row per name'}}\n"
        f"    def {ONE}(self, ara):\n        pass\n"
    )
    _subclass(pytester, body)
    report = pytester.path / "r.json"
    result = pytester.runpytest(*BASE, "--ara-report", str(report))
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    (rec,) = [t for t in _report(report)["targets"]["reference"]["tests"] if t["name"] == ONE]
    assert rec["status"] == "not_run"
    assert "overridden by the author: our storage keeps one row per name" in rec["reason"]


def test_unused_areas_are_reported_not_run_never_passed(pytester: pytest.Pytester) -> None:
    _subclass(pytester, "    pass\n")
    report = pytester.path / "r.json"
    pytester.runpytest(*BASE, "--ara-report", str(report))
    target = _report(report)["targets"]["reference"]
    assert target["areas"]["writes"] == _counts(passed=9)
    for area in ("values", "static", "failover", "stateful"):
        counts = target["areas"][area]
        assert counts["passed"] == 0 and counts["not_run"] > 0, (area, counts)


# -- known bugs ---------------------------------------------------------------------------


def test_known_bug_that_passes_fails_the_run(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        *BASE,
        "--pyargs",
        "ara_conformance.suite",
        "--ara-driver",
        "memory",
        "-k",
        ONE,
        "--ara-known-bug",
        f"{ONE}=we thought it was broken",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*XPASS(strict)*known bug: we thought it was broken*"])


def test_stale_known_bug_is_a_problem(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        *BASE,
        "--pyargs",
        "ara_conformance.suite",
        "--ara-driver",
        "memory",
        "-k",
        ONE,
        "--ara-known-bug",
        "test_renamed_long_ago=old reason",
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["PROBLEM: known bug 'test_renamed_long_ago' names no standard test*"]
    )


def test_known_bug_that_fails_is_xfailed_and_the_run_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_known="""
import pytest
from broken import ChangedCounts, DriverTarget
from ara_conformance.suite import WritesTests

class TestKnown(WritesTests):
    @pytest.fixture(scope="class")
    @classmethod
    def ara_target(cls):
        t = DriverTarget("changed-counts", ChangedCounts())
        t.known_bugs.update({
            "test_update_counts_matched_rows_including_unchanged": "counts changed rows (#12)",
            "test_update2_applies_every_condition": "counts changed rows (#12)",
        })
        yield t
"""
    )
    report = pytester.path / "r.json"
    result = pytester.runpytest(*BASE, "--ara-report", str(report))
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=7, xfailed=2)
    target = _report(report)["targets"]["changed-counts"]
    assert target["areas"]["writes"] == _counts(passed=7, xfailed=2)


# -- reports and profiles -----------------------------------------------------------------


def test_json_and_junit_reports(pytester: pytest.Pytester) -> None:
    report = pytester.path / "out" / "r.json"
    junit = pytester.path / "j.xml"
    result = pytester.runpytest(
        *BASE,
        "--pyargs",
        "ara_conformance.suite",
        "--ara-driver",
        "memory",
        "-k",
        f"{ONE} or test_codec_storage_holds_asterisk_form",
        "--ara-report",
        str(report),
        f"--junitxml={junit}",
    )
    result.assert_outcomes(passed=1, skipped=1)
    data = _report(report)
    assert data["format"] == 1 and data["suite"] == "ara-conformance" and data["profile"] == "ci"
    target = data["targets"]["memory"]
    assert target["capabilities"]["operations"]
    assert target["areas"]["codec"]["unsupported"] == 1
    assert target["areas"]["codec"]["passed"] == 0
    assert target["totals"]["passed"] == 1
    assert sum(target["totals"].values()) == len(STANDARD)
    props = {(p.get("name"), p.get("value")) for p in ET.parse(junit).getroot().iter("property")}
    assert ("ara_area", "writes") in props and ("ara_target", "memory") in props
    assert ("ara_status", "unsupported") in props


@pytest.mark.parametrize("profile", ["ci", "dev", "nightly"])
def test_profiles_can_be_chosen(pytester: pytest.Pytester, profile: str) -> None:
    result = pytester.runpytest(
        *BASE,
        "--pyargs",
        "ara_conformance.suite",
        "--ara-driver",
        "memory",
        "--ara-profile",
        profile,
        "-k",
        ONE,
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*profile {profile}*"])


def test_profile_settings() -> None:
    ci = _profiles.settings_for("ci")
    assert ci.derandomize and ci.database is None and ci.deadline is None
    assert ci.max_examples < _profiles.settings_for("dev").max_examples
    assert _profiles.settings_for("nightly").max_examples >= 1000
    assert _profiles.settings_for("nightly").stateful_step_count >= 100
    assert _profiles.settings_for("ci", scale=0.5).max_examples < ci.max_examples
    with pytest.raises(ValueError, match="unknown"):
        _profiles.settings_for("weekly")
