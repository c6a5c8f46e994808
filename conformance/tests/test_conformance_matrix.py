"""The feature matrix renders from real reports and never shows unsupported as supported."""

from __future__ import annotations

from typing import Any

from ara_conformance.matrix import cell, render


def test_cells() -> None:
    assert cell({"passed": 8}) == "yes (8/8)"
    assert cell({"passed": 7, "failed": 1}) == "**NO** (1 failed of 8)"
    assert cell({"unsupported": 3}) == "unsupported"
    assert cell({"passed": 4, "unsupported": 1}) == "yes (4/4), 1 unsupported"
    assert cell({"passed": 13, "xfailed": 1}) == "partly (13/14, 1 known bug)"
    assert cell({"not_run": 2}) == "2 not run"
    assert cell({}) == "-"


def test_matrix_from_the_runs(suite_runs: Any) -> None:
    reports = [suite_runs[name].data() for name in ("sqlite3", "memory", "broken")]
    text = render(reports)
    header = next(line for line in text.splitlines() if line.startswith("| area |"))
    for name in ("sqlite3", "memory", "merging", "nothing"):
        assert f" {name} " in header
    columns = [c.strip() for c in header.split("|")]
    codec = [
        c.strip()
        for c in next(line for line in text.splitlines() if line.startswith("| **codec**")).split(
            "|"
        )
    ]
    assert codec[columns.index("sqlite3")] == "unsupported", "sqlite3 does not declare the codec"
    assert codec[columns.index("nothing")] == "unsupported"
    assert codec[columns.index("codec-liar")].startswith("**NO**")
    assert "## Declared capabilities" in text and "outage used by the suite" in text
