"""The fault matrix's plumbing: the results of the session, written as JSON when asked.

``ARA_FAULT_MATRIX_JSON=path`` (``scripts/fault-matrix`` sets it) makes the session write every
result there at its end, for ``python -m ara_testservers.faultpage`` to render; without it the
results are only checked. Either way the terminal summary shows them as a table.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ara_testservers.faultmatrix import Result, run_settings, write_json
from ara_testservers.faultpage import text_table
from ara_testservers.odbc import odbc_files

__all__ = ["fault_results", "odbc_files"]

JSON_ENV = "ARA_FAULT_MATRIX_JSON"
_RESULTS: list[Result] = []


@pytest.fixture(scope="session")
def fault_results() -> Iterator[list[Result]]:
    """Every cell run in this session, in order."""
    yield _RESULTS
    target = os.environ.get(JSON_ENV)
    if target and _RESULTS:
        write_json(_RESULTS, Path(target), run_settings())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _RESULTS:
        return
    terminalreporter.section("fault matrix", sep="=", bold=True)
    for line in text_table(_RESULTS):
        terminalreporter.line(line)
    if os.environ.get(JSON_ENV):
        terminalreporter.line(f"results written to {os.environ[JSON_ENV]}")
