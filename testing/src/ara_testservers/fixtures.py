"""Session-scoped pytest fixtures: one PostgreSQL and one MariaDB server per test run.

Import the fixtures into a ``conftest.py``::

    from ara_testservers.fixtures import mariadb_server, pg_server  # noqa: F401

A server starts when the first test that needs it runs and stops at the end of the session.
A server that cannot start fails the tests that need it; it never skips them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .servers import MariaDBServer, PostgresServer, ServerError

__all__ = ["mariadb_server", "pg_server"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server (database ``ara``, user ``ara``)."""
    server = PostgresServer()
    try:
        server.start()
    except ServerError as exc:
        server.close()
        pytest.fail(f"cannot start PostgreSQL for the tests: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDBServer]:
    """A throwaway MariaDB server (database ``ara``, user ``ara``)."""
    server = MariaDBServer()
    try:
        server.start()
    except ServerError as exc:
        server.close()
        pytest.fail(f"cannot start MariaDB for the tests: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.close()
