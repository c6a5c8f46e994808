"""The TCP socket under a pyodbc connection, for the core's watchdog (``query_timeout``).

ODBC hides the socket a driver talks on, but the server knows the client's port: PostgreSQL's
``inet_client_port()``, MariaDB's ``information_schema.PROCESSLIST`` row of the session. The
local socket with that port is found in ``/proc/net/tcp{,6}`` (its inode) and the descriptor
pointing at that inode in ``/proc/self/fd``. The watchdog checks descriptor *and* inode again
before it cuts anything, so a stale answer can never touch another socket. Where any step fails
(a Unix socket, SQLite, no ``/proc``) the connection's calls are timed but not cut.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from .dbms import Kind

__all__ = ["client_port", "socket_fd"]

_PORT_SQL = {
    "postgresql": "SELECT inet_client_port()",
    "mysql": "SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()",
}


def client_port(conn: Any, kind: Kind) -> int | None:
    """The local TCP port of ``conn`` as its server sees it (``None``: not TCP, or unknown)."""
    sql = _PORT_SQL.get(kind)
    if sql is None:
        return None
    cur = conn.cursor()
    try:
        cur.execute(sql)
        row = cur.fetchone()
    finally:
        cur.close()
    value = row[0] if row else None
    if value is None:
        return None
    text = str(value).rpartition(":")[2] if kind == "mysql" else str(value)
    return int(text) if text.isdigit() else None


def _inodes(port: int) -> set[str]:
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table, encoding="ascii") as f:
            next(f, None)
            for line in f:
                fields = line.split()
                if len(fields) > 9 and int(fields[1].rpartition(":")[2], 16) == port:
                    found.add(fields[9])
    return found


def socket_fd(port: int) -> int | None:
    """The descriptor of this process's TCP socket bound to local ``port``, if there is one."""
    inodes = _inodes(port)
    if not inodes:
        return None
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/self/fd/{name}")
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(name)
    return None
