"""The ara-conformance suite on the odbc driver, through three real ODBC drivers:
psqlODBC on PostgreSQL, MariaDB Connector/ODBC on MariaDB, the SQLite3 ODBC driver on a file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ara_conformance.suite import ConformanceTests
from ara_odbc.conformance import OdbcTarget
from ara_testservers.odbc import Dsn


class TestOdbcPostgreSQL(ConformanceTests):
    @pytest.fixture(scope="class")
    @classmethod
    def ara_target(cls, odbc_pg: Dsn) -> Iterator[OdbcTarget]:
        target = OdbcTarget(settings=odbc_pg.settings(), name="odbc/postgresql")
        yield target
        target.close()


class TestOdbcMariaDB(ConformanceTests):
    @pytest.fixture(scope="class")
    @classmethod
    def ara_target(cls, odbc_mariadb: Dsn) -> Iterator[OdbcTarget]:
        target = OdbcTarget(settings=odbc_mariadb.settings(), name="odbc/mariadb")
        yield target
        target.close()


class TestOdbcSQLite(ConformanceTests):
    @pytest.fixture(scope="class")
    @classmethod
    def ara_target(
        cls, odbc_sqlite: Dsn, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[OdbcTarget]:
        workdir: Path = tmp_path_factory.mktemp("odbc-sqlite")
        target = OdbcTarget(settings=odbc_sqlite.settings(), name="odbc/sqlite", workdir=workdir)
        yield target
        target.close()
