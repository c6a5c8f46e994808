"""Fixtures for the pgsql driver's tests: the shared SQL fixtures, on PostgreSQL."""

from __future__ import annotations

import pytest

from ara_testservers.sqlfixtures import *  # noqa: F403  (rt, make_rt, sql, sql_tables, ...)


@pytest.fixture(scope="session")
def sql_driver() -> str:
    return "pgsql"
