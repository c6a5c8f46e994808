"""The conformance target for this driver (imported only by test runs).

It gives the suite what only this driver can give: a back door (the suite reads and writes
the JSON-lines files itself) and a *real* outage (``ara_conformance.DirectoryTarget`` renames
the database directory away, so the driver finds no storage, then renames it back). Used two
ways:

* ``class TestJsonFile(ConformanceTests)`` in ``tests/`` (the subclass style), and
* ``pytest -p ara_conformance --pyargs ara_conformance.suite --ara-driver jsonfile``, through
  the ``ara_conformance.targets`` entry point ``jsonfile = "ara_jsonfile.conformance:make_target"``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ara_conformance import DirectoryTarget

from ._storage import SUFFIX

__all__ = ["JsonFileTarget", "make_target"]


class JsonFileTarget(DirectoryTarget):
    """``jsonfile`` with one directory per role under ``workdir`` (its ``directory`` setting).

    :class:`~ara_conformance.DirectoryTarget` gives the directories and the real outage; this
    class adds the back door.
    """

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        database: str = "ara_conformance",
        settings: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__("jsonfile", workdir, database=database, settings=settings, **options)

    def role_settings(self, directory: Path) -> dict[str, str]:
        return {"directory": str(directory)}

    def _file(self, database: str, table: str) -> Path:
        return Path(self.settings_of(database)["directory"]) / f"{table}{SUFFIX}"

    # The back door: the files, read and written without the driver.

    def read_raw(self, database: str, table: str) -> list[dict[str, Any]]:
        lines = self._file(database, table).read_text(encoding="utf-8").split("\n")
        return [json.loads(line) for line in lines[1:] if line]

    def write_raw(self, database: str, table: str, row: Mapping[str, str | None]) -> None:
        with self._file(database, table).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(dict(row), ensure_ascii=False) + "\n")

    def drop_table(self, database: str, table: str) -> None:
        self._file(database, table).unlink(missing_ok=True)


def make_target(
    *, database: str = "ara_conformance", settings: Mapping[str, str], workdir: Path
) -> JsonFileTarget:
    """Entry point for ``--ara-driver jsonfile``."""
    return JsonFileTarget(workdir, database=database, settings=settings)
