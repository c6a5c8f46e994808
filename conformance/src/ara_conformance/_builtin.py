"""Ready targets for the core's built-in drivers, ``sqlite3`` and ``memory``.

``--ara-driver sqlite3`` and ``--ara-driver memory`` find them through the
``ara_conformance.targets`` entry points ara-conformance declares, as any driver's target.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ara_realtime import Realtime
from ara_realtime.drivers import memory

from ._files import DirectoryTarget
from ._tables import TableSpec
from ._target import Target

__all__ = ["MemoryTarget", "SQLite3Target"]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SQLite3Target(DirectoryTarget):
    """The ``sqlite3`` driver: a database file per role, taken away for real in an outage.

    Each role's file is ``conformance.db`` in its own directory under ``workdir`` (see
    :class:`~ara_conformance.DirectoryTarget`); a ``dbfile`` given in the settings is used for
    the main role, which is then never taken down.
    """

    def __init__(
        self,
        *,
        workdir: Path | None = None,
        database: str = "ara_conformance",
        settings: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__("sqlite3", workdir, database=database, settings=settings, **options)

    def role_settings(self, directory: Path) -> dict[str, str]:
        return {"dbfile": str(directory / "conformance.db")}

    def _connect(self, database: str) -> sqlite3.Connection:
        path = self.settings_of(database)["dbfile"]
        return sqlite3.connect(path, timeout=5, isolation_level=None)

    def read_raw(self, database: str, table: str) -> list[dict[str, Any]]:
        conn = self._connect(database)
        try:
            cur = conn.execute(f"SELECT * FROM {_quote(table)}")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]
        finally:
            conn.close()

    def write_raw(self, database: str, table: str, row: Mapping[str, str | None]) -> None:
        conn = self._connect(database)
        try:
            cols = ", ".join(_quote(c) for c in row)
            marks = ", ".join("?" for _ in row)
            conn.execute(
                f"INSERT INTO {_quote(table)} ({cols}) VALUES ({marks})", list(row.values())
            )
        finally:
            conn.close()

    def drop_table(self, database: str, table: str) -> None:
        conn = self._connect(database)
        try:
            conn.execute(f"DROP TABLE IF EXISTS {_quote(table)}")
        finally:
            conn.close()


class MemoryTarget(Target):
    """The ``memory`` driver: tables made with ``memory.create_table``; the back door reads
    the process-wide store; outages are injected (memory cannot go down)."""

    def __init__(
        self,
        *,
        workdir: Path | None = None,
        database: str = "ara_conformance",
        settings: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__("memory", database=database, settings=settings, **options)

    def create_table(
        self, rt: Realtime, family: str, database: str, table: str, spec: TableSpec
    ) -> None:
        memory.create_table(database, table, dict(spec.columns))

    def read_raw(self, database: str, table: str) -> list[dict[str, Any]]:
        st = memory.store(database)
        with st.lock:
            return [dict(r) for r in st.tables[table].rows]

    def write_raw(self, database: str, table: str, row: Mapping[str, str | None]) -> None:
        st = memory.store(database)
        with st.lock:
            st.tables[table].rows.append({k: v for k, v in row.items() if v is not None})

    def drop_table(self, database: str, table: str) -> None:
        st = memory.store(database)
        with st.lock:
            st.tables.pop(table, None)
