"""The conformance target for this driver (imported only by test runs).

It gives the suite what only this driver can give: a back door (the suite reads and writes
the JSON-lines files itself) and a *real* outage (the database directory is renamed away, so
the driver finds no storage, then renamed back). Used two ways:

* ``class TestJsonFile(ConformanceTests)`` in ``tests/`` (the subclass style), and
* ``pytest -p ara_conformance --pyargs ara_conformance.suite --ara-driver jsonfile``, through
  the ``ara_conformance.targets`` entry point ``jsonfile = "ara_jsonfile.conformance:make_target"``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ara_conformance import Session, Target

from ._storage import SUFFIX

__all__ = ["JsonFileTarget", "make_target"]


class JsonFileTarget(Target):
    """``jsonfile`` with one directory per role under ``workdir``."""

    outage_kind = "real (the database directory is renamed away and restored)"

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        database: str = "ara_conformance",
        settings: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__("jsonfile", database=database, settings=settings, **options)
        self._own = workdir is None
        self.workdir = (
            Path(tempfile.mkdtemp(prefix="ara-jsonfile-")) if workdir is None else workdir
        )
        self.settings.setdefault("directory", str(self._dir("main")))

    def _dir(self, role: str) -> Path:
        path = self.workdir / f"jsonfile-{role}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def database_settings(self, role: str) -> tuple[str, dict[str, str]]:
        if role == "main":
            return self.database, dict(self.settings)
        return f"{self.database}_{role}", {**self.settings, "directory": str(self._dir(role))}

    def _file(self, database: str, table: str) -> Path:
        for role in ("main", "primary", "secondary"):
            name, settings = self.database_settings(role)
            if name == database:
                return Path(settings["directory"]) / f"{table}{SUFFIX}"
        raise KeyError(database)

    # The back door: the files, read and written without the driver.

    def read_raw(self, database: str, table: str) -> list[dict[str, Any]]:
        lines = self._file(database, table).read_text(encoding="utf-8").split("\n")
        return [json.loads(line) for line in lines[1:] if line]

    def write_raw(self, database: str, table: str, row: Mapping[str, str | None]) -> None:
        with self._file(database, table).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(dict(row), ensure_ascii=False) + "\n")

    def drop_table(self, database: str, table: str) -> None:
        self._file(database, table).unlink(missing_ok=True)

    @contextlib.contextmanager
    def outage(self, session: Session, role: str) -> Iterator[None]:
        where = self._dir(role)
        away = where.with_name(where.name + ".down")
        where.rename(away)
        try:
            yield
        finally:
            away.rename(where)

    def close(self) -> None:
        if self._own:
            shutil.rmtree(self.workdir, ignore_errors=True)


def make_target(
    *, database: str = "ara_conformance", settings: Mapping[str, str], workdir: Path
) -> JsonFileTarget:
    """Entry point for ``--ara-driver jsonfile``."""
    return JsonFileTarget(workdir, database=database, settings=settings)
