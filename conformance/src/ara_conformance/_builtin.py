"""Ready targets for the core's built-in drivers, ``sqlite3`` and ``memory``."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ara_realtime import Realtime
from ara_realtime.drivers import memory

from ._tables import TableSpec
from ._target import Session, Target

__all__ = ["BUILTIN_TARGETS", "MEMORY_KNOWN_BUGS", "MemoryTarget", "SQLite3Target"]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SQLite3Target(Target):
    """The ``sqlite3`` driver: files in ``workdir``; a real outage moves a directory away.

    Each role has its own directory (``main/``, ``primary/``, ``secondary/``). During an
    outage the role's directory is renamed and open connections are dropped, so the driver
    has to reconnect to a file that is not there, exactly as after losing a disk; afterwards
    the directory is renamed back. A ``dbfile`` given in the settings is used for the main
    role only (its directory is never moved).
    """

    outage_kind = "real (the database directory is renamed away and restored)"

    def __init__(
        self,
        *,
        workdir: Path | None = None,
        database: str = "ara_conformance",
        settings: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__("sqlite3", database=database, settings=settings, **options)
        self._own = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="ara-sqlite3-")) if workdir is None else workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        if "dbfile" not in self.settings:
            self.settings["dbfile"] = str(self._file("main"))

    def _dir(self, role: str) -> Path:
        return self.workdir / f"sqlite3-{role}"

    def _file(self, role: str) -> Path:
        path = self._dir(role)
        path.mkdir(parents=True, exist_ok=True)
        return path / "conformance.db"

    def database_settings(self, role: str) -> tuple[str, dict[str, str]]:
        if role == "main":
            return self.database, dict(self.settings)
        settings = {k: v for k, v in self.settings.items() if k != "dbfile"}
        settings["dbfile"] = str(self._file(role))
        return f"{self.database}_{role}", settings

    def _path(self, database: str) -> str:
        for role in ("main", "primary", "secondary"):
            name, settings = self.database_settings(role)
            if name == database:
                return settings["dbfile"]
        raise KeyError(database)

    def _connect(self, database: str) -> sqlite3.Connection:
        return sqlite3.connect(self._path(database), timeout=5, isolation_level=None)

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

    @contextlib.contextmanager
    def outage(self, session: Session, role: str) -> Iterator[None]:
        if role == "main" and "dbfile" in self.settings:
            here = Path(self.settings["dbfile"]).parent
            if here != self._dir("main"):
                raise RuntimeError("will not move a directory the target did not create")
        where = self._dir(role)
        away = where.with_name(where.name + ".down")
        where.rename(away)
        session.drop_connections()
        try:
            yield
        finally:
            away.rename(where)

    def close(self) -> None:
        if self._own:
            shutil.rmtree(self.workdir, ignore_errors=True)


#: Where the ``memory`` driver deviates from the contract: strict xfails in every run of its
#: target, so fixing the driver fails the run until the entry goes.
MEMORY_KNOWN_BUGS = {
    "test_writing_empty_stores_null": (
        "the memory driver keeps '' in its rows where the contract leaves the column out"
    ),
}


class MemoryTarget(Target):
    """The ``memory`` driver: tables made with ``memory.create_table``; the back door reads
    the process-wide store; outages are injected (memory cannot go down). Declares the
    driver's known deviations (:data:`MEMORY_KNOWN_BUGS`)."""

    def __init__(
        self,
        *,
        workdir: Path | None = None,
        database: str = "ara_conformance",
        settings: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__("memory", database=database, settings=settings, **options)
        self.known_bugs = {**MEMORY_KNOWN_BUGS, **self.known_bugs}

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


BUILTIN_TARGETS: dict[str, Callable[..., Target]] = {
    "sqlite3": SQLite3Target,
    "memory": MemoryTarget,
}
