"""Fixtures for the mysql driver's tests: the shared SQL fixtures, on MariaDB, once per DB-API."""

from __future__ import annotations

import pytest

from ara_testservers.sqlfixtures import *  # noqa: F403  (rt, make_rt, sql, sql_tables, ...)


@pytest.fixture(scope="session")
def sql_driver() -> str:
    return "mysql"


# overrides the shared fixture of that name (star-imported above)
@pytest.fixture(params=["mysqlclient", "pymysql"])  # type: ignore[no-redef]
def dbapi(request: pytest.FixtureRequest) -> str:
    """Each test that reaches the server runs with both DB-API drivers."""
    return str(request.param)
