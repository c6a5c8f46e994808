"""Throwaway PostgreSQL and MariaDB servers on loopback, for tests and benchmarks.

Each server gets its own data directory under a temporary directory, a free port on
127.0.0.1, its own socket directory, a database ``ara`` and a password user ``ara``. Missing
Debian packages are installed with ``apt-get`` when running as root. Servers are stopped by
the PID recorded at start, after checking ``/proc/PID/cmdline`` still names the binary
(PostgreSQL: SIGINT, "fast" shutdown; MariaDB: SIGTERM).

    with PostgresServer() as pg:
        url = pg.url()        # postgresql+psycopg://ara:...@127.0.0.1:PORT/ara
"""

from __future__ import annotations

from .servers import (
    DEBIAN_PACKAGES,
    MariaDBServer,
    PostgresServer,
    Server,
    ServerError,
    free_port,
)

__all__ = [
    "DEBIAN_PACKAGES",
    "MariaDBServer",
    "PostgresServer",
    "Server",
    "ServerError",
    "free_port",
]
