"""The ara-conformance suite on the mysql driver (both DB-APIs), against the throwaway MariaDB."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ara_conformance.suite import ConformanceTests
from ara_mysql.conformance import MySQLTarget
from ara_testservers import MariaDBServer


class TestMysqlclient(ConformanceTests):
    @pytest.fixture(scope="class")
    @classmethod
    def ara_target(cls, mariadb_server: MariaDBServer) -> Iterator[MySQLTarget]:
        settings = {**mariadb_server.settings(), "dbapi": "mysqlclient"}
        target = MySQLTarget(settings=settings, name="mysql/mysqlclient")
        yield target
        target.close()


class TestPyMySQL(ConformanceTests):
    @pytest.fixture(scope="class")
    @classmethod
    def ara_target(cls, mariadb_server: MariaDBServer) -> Iterator[MySQLTarget]:
        settings = {**mariadb_server.settings(), "dbapi": "pymysql"}
        target = MySQLTarget(
            settings=settings,
            name="mysql/pymysql",
            database="ara_conf_pymysql",
        )
        yield target
        target.close()
