"""pyodbc errors: the caller's mistake, a lost connection, or a failing storage, and their text.

ODBC reports a five-character SQLSTATE with every error (``exc.args[0]``). Classes ``08``
(connection exception) and ``HYT01`` (connection timeout) mean the connection is gone;
``22`` (data), ``23`` (integrity), ``42`` (syntax or access: unknown table or column), ``21``
(cardinality), ``0A`` (not supported) and ``44`` are the caller's mistake. Drivers that say
``HY000`` (general error) for everything are read by their message: the SQLite3 ODBC driver
(SQLite's own texts and result codes) and the server texts that announce a lost connection.

A server that refuses writes (:func:`read_only`: a PostgreSQL standby or a server set
read-only, SQLSTATE ``25006``; MariaDB's ``--read-only`` and ``read_only`` errors) counts as a
lost connection too: the connection is no use for writes, and a class with several DSNs
should move on to the next.
"""

from __future__ import annotations

import re
from typing import Any

from ara_realtime.sql.base import ErrorKind

from .dbms import Kind

__all__ = ["classify", "read_only", "reason", "sqlstate"]

_QUERY_CLASSES = frozenset({"21", "22", "23", "42", "0A", "44"})
#: PostgreSQL's shutdown states (the server passes them through psqlODBC).
_SHUTDOWN = frozenset({"57P01", "57P02", "57P03"})
#: MySQL/MariaDB errors of a server that takes no writes: ER_OPTION_PREVENTS_STATEMENT (the
#: server runs with --read-only), ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION, ER_READ_ONLY_MODE.
_MYSQL_READ_ONLY = (1290, 1792, 1836)
#: Texts of a lost connection in drivers that report it as ``HY000`` (or worse).
_LOST_TEXTS = (
    "server closed the connection",
    "no connection to the server",
    "could not send data to server",
    "could not receive data from server",
    "terminating connection",
    "connection is closed",
    "lost connection",
    "server has gone away",
    "communication link failure",
    "(2006)",
    "(2013)",
    "connection reset",
    "broken pipe",
)
#: Values too large for the server (MariaDB's long-data and packet limits): the caller's.
_TOO_LARGE = ("max_allowed_packet", "max_long_data_size", "mysql_send_long_data")
#: SQLite's messages that mean the request was wrong, not that the storage failed.
_SQLITE_MISTAKES = (
    "no such table",
    "no such column",
    "syntax error",
    "constraint failed",
    "too many SQL variables",
    "string or blob too big",
    "too many columns",
    "datatype mismatch",
)
# "[42S22] [ma-3.1.15][10.11.19-MariaDB]Unknown column ... (1054) (SQLExecDirectW)":
# the leading SQLSTATE and vendor tags, the trailing ODBC function name
_PREFIX = re.compile(r"^(?:\s*\[[^\]]*\])+\s*")
_SUFFIX = re.compile(r"\s*\((?:SQL\w+)\)\s*$")
_PG_TAIL = re.compile(r";?\s*Error while (?:executing|preparing) the query.*$", re.DOTALL)


def sqlstate(exc: BaseException) -> str:
    """The SQLSTATE of a pyodbc error (``""`` if it has none)."""
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], str) and len(args[0]) == 5:
        return args[0]
    return ""


def read_only(exc: BaseException) -> bool:
    """True if the error says the server takes no writes."""
    if sqlstate(exc) == "25006":
        return True
    text = str(exc)
    return any(f"({code})" in text for code in _MYSQL_READ_ONLY)


def classify(exc: BaseException, kind: Kind, error_type: type[BaseException]) -> ErrorKind | None:
    """How a pyodbc error is taken on a DBMS of ``kind`` (``None``: not a pyodbc error)."""
    if not isinstance(exc, error_type):
        return None
    state = sqlstate(exc)
    text = str(exc).lower()
    if state[:2] == "08" or state == "HYT01" or state in _SHUTDOWN or read_only(exc):
        return "lost"
    if any(t in text for t in _LOST_TEXTS):
        return "lost"
    if state[:2] in _QUERY_CLASSES or any(t in text for t in _TOO_LARGE):
        return "query"
    if kind == "sqlite" and any(m.lower() in text for m in _SQLITE_MISTAKES):
        return "query"
    return "backend"


def reason(exc: BaseException) -> str:
    """The driver's message without its tags, with the SQLSTATE (one line is kept later)."""
    args: tuple[Any, ...] = getattr(exc, "args", ())
    state = sqlstate(exc)
    message = str(args[1]) if len(args) >= 2 else (str(exc) or type(exc).__name__)
    message = _PG_TAIL.sub("", message)
    message = _SUFFIX.sub("", _PREFIX.sub("", message.strip()))
    message = message.removeprefix("ERROR:").strip()
    return f"{message} (SQLSTATE {state})" if state else message
