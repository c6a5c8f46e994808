"""Shared by the driver plugins' tests: throwaway database servers, one per test session."""

from __future__ import annotations

import pytest

# the shared tests and fixtures of ara_testservers (sqlserver, sqldriver, sqlfixtures)
pytest.register_assert_rewrite("ara_testservers")

from ara_testservers.fixtures import mariadb_server, pg_server  # noqa: E402

# The conformance suite is a pytest plugin that is never loaded on its own: opt in here (the
# drivers' test_*_conformance.py modules subclass its classes).
pytest_plugins = ["ara_conformance"]

__all__ = ["mariadb_server", "pg_server"]
