"""Private unixODBC configuration for tests: ``odbcinst.ini``/``odbc.ini`` in a temporary directory.

unixODBC reads its driver list from ``$ODBCSYSINI/odbcinst.ini`` and user DSNs from
``$ODBCINI``; :class:`OdbcFiles` writes both and points the process at them, so no test reads or
writes ``/etc/odbc*.ini``. The ODBC drivers are Debian packages (installed with ``apt-get``
when missing and running as root, as the servers are):

* ``PostgreSQL Unicode``: psqlODBC (``odbc-postgresql``);
* ``MariaDB Unicode``: MariaDB Connector/ODBC (``odbc-mariadb``);
* ``SQLite3``: the SQLite3 ODBC driver (``libsqliteodbc``; Debian's ``[SQLite]`` entry is the
  SQLite 2 driver, which bookworm does not ship).

Debian's own ``odbcinst.ini`` turns psqlODBC's ``CommLog`` on (a log file per process in the
temporary directory): every driver entry here sets ``CommLog=0`` and ``Debug=0``.

Set the variables before the process's first ODBC connection (unixODBC reads them then);
the fixtures below do it at the start of the session that uses them::

    from ara_testservers.odbc import odbc_files, odbc_pg, odbc_mariadb, odbc_sqlite
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .servers import MariaDBServer, PostgresServer, ServerError, _apt_install

__all__ = [
    "DEBIAN_PACKAGES",
    "DRIVERS",
    "Dsn",
    "OdbcFiles",
    "odbc_files",
    "odbc_mariadb",
    "odbc_pg",
    "odbc_sqlite",
]

#: Debian packages: the driver manager and the three ODBC drivers the tests use.
DEBIAN_PACKAGES = ("unixodbc", "odbc-postgresql", "odbc-mariadb", "libsqliteodbc")

#: Driver entry name -> shared object file name (searched in the multiarch ``odbc`` directory).
DRIVERS = {
    "PostgreSQL Unicode": "psqlodbcw.so",
    "MariaDB Unicode": "libmaodbc.so",
    "SQLite3": "libsqlite3odbc.so",
}


def _driver_path(library: str) -> Path | None:
    for pattern in (
        f"/usr/lib/*/odbc/{library}",
        f"/usr/lib/odbc/{library}",
        f"/usr/lib/{library}",
    ):
        found = sorted(glob.glob(pattern))
        if found:
            return Path(found[0])
    return None


def ensure_installed() -> dict[str, Path]:
    """The driver libraries by entry name, installing the Debian packages if one is missing."""
    paths = {name: _driver_path(lib) for name, lib in DRIVERS.items()}
    if any(p is None for p in paths.values()) or shutil.which("odbcinst") is None:
        _apt_install(DEBIAN_PACKAGES)
        paths = {name: _driver_path(lib) for name, lib in DRIVERS.items()}
    missing = [name for name, p in paths.items() if p is None]
    if missing:
        raise ServerError(f"ODBC drivers still missing after apt-get install: {missing}")
    return {name: p for name, p in paths.items() if p is not None}


@dataclass
class Dsn:
    """One DSN of the private ``odbc.ini``."""

    name: str
    driver: str
    attributes: dict[str, str] = field(default_factory=dict)

    def settings(self, **extra: str) -> dict[str, str]:
        """``res_odbc.conf``-style settings of a class using this DSN."""
        return {"dsn": self.name, **extra}


class OdbcFiles:
    """A directory holding ``odbcinst.ini`` (the three drivers) and ``odbc.ini`` (DSNs)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._own = directory is None
        self.directory = (
            Path(tempfile.mkdtemp(prefix="ara-odbc-")) if directory is None else directory
        )
        self.drivers = ensure_installed()
        self.dsns: dict[str, Dsn] = {}
        self._saved: dict[str, str | None] = {}
        self._write()

    @property
    def odbcinst(self) -> Path:
        return self.directory / "odbcinst.ini"

    @property
    def odbcini(self) -> Path:
        return self.directory / "odbc.ini"

    def environ(self) -> dict[str, str]:
        """The variables that make unixODBC read these files."""
        return {"ODBCSYSINI": str(self.directory), "ODBCINI": str(self.odbcini)}

    def activate(self) -> None:
        """Point this process (and its children) at these files."""
        for key, value in self.environ().items():
            self._saved.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def add(self, name: str, driver: str, **attributes: str) -> Dsn:
        """Add (or replace) a DSN and rewrite ``odbc.ini``."""
        if driver not in self.drivers:
            raise ValueError(f"unknown ODBC driver {driver!r}; known: {', '.join(self.drivers)}")
        dsn = self.dsns[name] = Dsn(name, driver, dict(attributes))
        self._write()
        return dsn

    def postgres(self, name: str, server: PostgresServer, database: str | None = None) -> Dsn:
        """A psqlODBC (Unicode) DSN on ``server``."""
        return self.add(
            name,
            "PostgreSQL Unicode",
            Servername=server.host,
            Port=str(server.port),
            Database=database or server.database,
            Username=server.user,
            Password=server.password,
            SSLmode="disable",
        )

    def mariadb(self, name: str, server: MariaDBServer, database: str | None = None) -> Dsn:
        """A MariaDB Connector/ODBC DSN on ``server``."""
        return self.add(
            name,
            "MariaDB Unicode",
            Server=server.host,
            Port=str(server.port),
            Database=database or server.database,
            User=server.user,
            Password=server.password,
        )

    def sqlite(self, name: str, path: Path) -> Dsn:
        """A SQLite3 ODBC DSN on the database file ``path``."""
        return self.add(name, "SQLite3", Database=str(path), Timeout="5000")

    def _write(self) -> None:
        self.odbcinst.write_text(
            "".join(
                f"[{name}]\nDriver={path}\nDebug=0\nCommLog=0\nUsageCount=1\n\n"
                for name, path in self.drivers.items()
            )
        )
        self.odbcini.write_text(
            "".join(_section(d.name, d.driver, d.attributes) for d in self.dsns.values())
        )

    def close(self) -> None:
        """Restore the environment and remove the directory (if it was made here)."""
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved.clear()
        if self._own:
            shutil.rmtree(self.directory, ignore_errors=True)


def _section(name: str, driver: str, attributes: Mapping[str, str]) -> str:
    lines = [f"[{name}]", f"Driver={driver}", "Debug=0", "CommLog=0"]
    lines += [f"{k}={v}" for k, v in attributes.items()]
    return "\n".join(lines) + "\n\n"


# -- pytest fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def odbc_files() -> Iterator[OdbcFiles]:
    """Private ``odbcinst.ini``/``odbc.ini`` for the session, active in ``os.environ``."""
    try:
        files = OdbcFiles()
    except ServerError as exc:
        pytest.fail(f"cannot install the ODBC drivers for the tests: {exc}", pytrace=False)
    files.activate()
    try:
        yield files
    finally:
        files.close()


@pytest.fixture(scope="session")
def odbc_pg(odbc_files: OdbcFiles, pg_server: PostgresServer) -> Dsn:
    """DSN ``ara_pg``: psqlODBC on the session's PostgreSQL server."""
    return odbc_files.postgres("ara_pg", pg_server)


@pytest.fixture(scope="session")
def odbc_mariadb(odbc_files: OdbcFiles, mariadb_server: MariaDBServer) -> Dsn:
    """DSN ``ara_mariadb``: MariaDB Connector/ODBC on the session's MariaDB server."""
    return odbc_files.mariadb("ara_mariadb", mariadb_server)


@pytest.fixture(scope="session")
def odbc_sqlite(odbc_files: OdbcFiles) -> Dsn:
    """DSN ``ara_sqlite``: the SQLite3 ODBC driver on a file in the session's directory."""
    return odbc_files.sqlite("ara_sqlite", odbc_files.directory / "ara.sqlite3")
