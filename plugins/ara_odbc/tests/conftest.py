"""Fixtures for the odbc driver's tests: private unixODBC files and a DSN per DBMS.

The PostgreSQL and MariaDB servers come from ``plugins/conftest.py`` (``pg_server``,
``mariadb_server``); the DSNs reaching them, and a SQLite file, from
:mod:`ara_testservers.odbc`.
"""

from __future__ import annotations

from ara_testservers.odbc import odbc_files, odbc_mariadb, odbc_pg, odbc_sqlite

__all__ = ["odbc_files", "odbc_mariadb", "odbc_pg", "odbc_sqlite"]
