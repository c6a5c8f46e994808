"""``pip install ./core ./plugins/ara_odbc`` pulls in no PostgreSQL, MySQL or LDAP client library.

Walked in ``uv.lock`` (the versions CI installs): every distribution ara-odbc needs, extras
included, and nothing a database client brings. The wheel itself is installed alone beside the
core's, with ``realtime drivers`` listing ``odbc``, by ``tests/test_distributions.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

ROOT = Path(__file__).resolve().parents[3]
CLIENTS = {
    "psycopg",
    "psycopg-binary",
    "psycopg-c",
    "psycopg2",
    "psycopg2-binary",
    "asyncpg",
    "pg8000",
    "pymysql",
    "mysqlclient",
    "mysql-connector-python",
    "mariadb",
    "ldap3",
    "python-ldap",
}


def _closure(name: str, extras: tuple[str, ...] = ()) -> set[str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    packages = {p["name"]: p for p in lock["package"]}
    seen: set[str] = set()
    todo = [(name, extras)]
    while todo:
        current, wanted = todo.pop()
        package = packages[current]
        deps = list(package.get("dependencies", []))
        for extra in wanted:
            deps += package.get("optional-dependencies", {}).get(extra, [])
        for dep in deps:
            key = (dep["name"], tuple(dep.get("extra", ())))
            if f"{key[0]}{key[1]}" not in seen:
                seen.add(f"{key[0]}{key[1]}")
                todo.append(key)
    return {s.split("(")[0] for s in seen}


def test_no_database_client_library() -> None:
    needed = _closure("ara-odbc")
    assert {"ara-realtime", "pyodbc", "sqlalchemy"} <= needed
    assert not needed & CLIENTS, needed & CLIENTS
