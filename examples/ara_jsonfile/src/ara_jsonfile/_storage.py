"""The storage: one JSON-lines file per table in a directory.

``<directory>/<table>.jsonl``: the first line describes the table, every other line is one
row (a JSON object of column -> value; NULL and empty columns are simply absent)::

    {"ara_jsonfile": 1, "columns": [["name", "CHAR", 40], ["port", "UINTEGER2", 5]]}
    {"name": "alice", "port": "5060"}

Concurrency: every operation holds ``<directory>/.lock`` with ``flock`` (shared to read,
exclusive to write), which serialises threads and processes alike. ``store`` appends one
line; other writes rewrite the file to a temporary name and ``os.replace`` it, so a reader
never sees half a file. If the directory is gone the storage is *down* (``BackendError``);
a missing table file is the caller's mistake (``QueryError``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ara_realtime import BackendError, QueryError
from ara_realtime.conditions import Condition, check_identifier, like_regex
from ara_realtime.datatypes import RQ, Requirement, Row, StaticRow

if sys.platform != "win32":
    import fcntl

__all__ = ["FORMAT", "JsonFileStore", "Table"]

FORMAT = 1
SUFFIX = ".jsonl"
_STATIC = ("filename", "category", "var_name", "var_val", "cat_metric", "var_metric", "commented")
_process_locks: dict[str, threading.RLock] = {}
_process_locks_guard = threading.Lock()


class Table:
    """A table's header: column names in order, and which hold integers."""

    def __init__(self, name: str, columns: Sequence[tuple[str, str, int]]) -> None:
        self.name = name
        self.columns = [c for c, _, _ in columns]
        self.types = {c: (t, s) for c, t, s in columns}
        self.integer = {c for c, t, _ in columns if RQ[t].is_int}

    def header(self) -> str:
        cols = [[c, *self.types[c]] for c in self.columns]
        return json.dumps({"ara_jsonfile": FORMAT, "columns": cols}, ensure_ascii=False)

    def check(self, columns: Iterator[str] | Sequence[str], family: str) -> None:
        for column in columns:
            if column not in self.types:
                raise QueryError(
                    f"family {family!r}: table {self.name!r} has no column {column!r}",
                    family=family,
                    table=self.name,
                    field=column,
                )

    def checked_values(self, values: Sequence[tuple[str, str]], family: str) -> dict[str, str]:
        self.check([c for c, _ in values], family)
        out: dict[str, str] = {}
        for column, value in values:
            if value and column in self.integer and not _is_int(value):
                raise QueryError(
                    f"family {family!r}: column {column!r} of {self.name!r} holds integers "
                    "(the value given is not one; values are never shown)",
                    family=family,
                    table=self.name,
                    field=column,
                )
            out[column] = value
        return out


def _clean(raw: dict[str, Any]) -> dict[str, str]:
    """A stored row in contract form: ``null`` and ``""`` (written by others) are absent."""
    return {
        k: v if isinstance(v, str) else str(v) for k, v in raw.items() if v is not None and v != ""
    }


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _matches(table: Table, row: Mapping[str, str], cond: Condition) -> bool:
    have = row.get(cond.column, "")
    want = cond.value
    op = cond.op
    numeric = cond.column in table.integer
    if op in ("=", "!="):
        same = (
            int(have) == int(want) if numeric and have and want and _is_int(want) else have == want
        )
        return same if op == "=" else not same
    if op == "LIKE":
        return like_regex(want).fullmatch(have) is not None
    if op == "NOT LIKE":
        return like_regex(want).fullmatch(have) is None
    if not have:
        return False
    a: Any = int(have) if numeric and _is_int(want) else have
    b: Any = int(want) if numeric and _is_int(want) else want
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


class JsonFileStore:
    """One directory of tables (one ``database`` of the driver)."""

    def __init__(self, directory: Path, *, mode: str = "warn") -> None:
        self.directory = directory
        self.mode = mode
        key = str(directory.absolute())
        with _process_locks_guard:
            self._thread_lock = _process_locks.setdefault(key, threading.RLock())

    def __repr__(self) -> str:
        return f"<JsonFileStore {str(self.directory)!r}>"

    # -- locking and files ----------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        if not self.directory.is_dir():
            raise BackendError(f"jsonfile: directory {str(self.directory)!r} is not available")
        if sys.platform == "win32":  # pragma: no cover - no flock: one process only
            with self._thread_lock:
                yield
            return
        try:
            fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise BackendError(f"jsonfile: cannot lock {str(self.directory)!r}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _path(self, table: str) -> Path:
        check_identifier(table, kind="table")
        return self.directory / f"{table}{SUFFIX}"

    def _read(self, table: str, family: str) -> tuple[Table, list[dict[str, str]]]:
        path = self._path(table)
        try:
            with path.open(encoding="utf-8", newline="\n") as fh:
                # split on "\n" only: str.splitlines() would also split inside values
                # holding U+2028, U+0085, ... which json.dumps(ensure_ascii=False) keeps
                lines = fh.read().split("\n")
        except FileNotFoundError:
            if not self.directory.is_dir():
                raise BackendError(
                    f"jsonfile: directory {str(self.directory)!r} vanished"
                ) from None
            raise QueryError(
                f"family {family!r}: table {table!r} does not exist in {str(self.directory)!r}",
                family=family,
                table=table,
            ) from None
        except OSError as exc:
            raise BackendError(f"jsonfile: cannot read {str(path)!r}: {exc}") from exc
        if not lines:
            raise BackendError(f"jsonfile: {str(path)!r} has no header line")
        try:
            header = json.loads(lines[0])
            rows = [_clean(json.loads(line)) for line in lines[1:] if line]
        except ValueError as exc:
            raise BackendError(f"jsonfile: {str(path)!r} is corrupt: {exc}") from exc
        meta = Table(table, [tuple(c) for c in header["columns"]])
        return meta, rows

    def _write(self, table: Table, rows: list[dict[str, str]]) -> None:
        path = self._path(table.name)
        try:
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{table.name}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(table.header() + "\n")
                for row in rows:
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            os.replace(tmp, path)
        except OSError as exc:
            raise BackendError(f"jsonfile: cannot write {str(path)!r}: {exc}") from exc

    @staticmethod
    def _out(table: Table, row: Mapping[str, str]) -> Row:
        return {c: row[c] for c in table.columns if row.get(c)}

    # -- operations -----------------------------------------------------------------------

    def load(self, family: str, table: str, conds: Sequence[Condition]) -> Row | None:
        with self._locked(exclusive=False):
            meta, rows = self._read(table, family)
        meta.check([c.column for c in conds], family)
        for row in rows:
            if all(_matches(meta, row, c) for c in conds):
                return self._out(meta, row)
        return None

    def load_multi(self, family: str, table: str, conds: Sequence[Condition]) -> list[Row]:
        with self._locked(exclusive=False):
            meta, rows = self._read(table, family)
        meta.check([c.column for c in conds], family)
        hits = [r for r in rows if all(_matches(meta, r, c) for c in conds)]
        first = conds[0].column

        def key(row: Mapping[str, str]) -> tuple[int, int, str]:
            value = row.get(first, "")
            if not value:
                return (0, 0, "")
            if first in meta.integer and _is_int(value):
                return (1, int(value), "")
            return (2, 0, value)

        hits.sort(key=key)
        return [self._out(meta, r) for r in hits]

    def update(
        self,
        family: str,
        table: str,
        conds: Sequence[Condition],
        values: Sequence[tuple[str, str]],
    ) -> int:
        with self._locked(exclusive=True):
            meta, rows = self._read(table, family)
            meta.check([c.column for c in conds], family)
            new = meta.checked_values(values, family)
            count = 0
            for row in rows:
                if all(_matches(meta, row, c) for c in conds):
                    count += 1
                    for column, value in new.items():
                        if value:
                            row[column] = value
                        else:
                            row.pop(column, None)
            if count:
                self._write(meta, rows)
            return count

    def store(self, family: str, table: str, values: Sequence[tuple[str, str]]) -> int:
        with self._locked(exclusive=True):
            meta, _ = self._read(table, family)
            row = {c: v for c, v in meta.checked_values(values, family).items() if v}
            path = self._path(table)
            try:
                with path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            except OSError as exc:
                raise BackendError(f"jsonfile: cannot append to {str(path)!r}: {exc}") from exc
            return 1

    def destroy(self, family: str, table: str, conds: Sequence[Condition]) -> int:
        with self._locked(exclusive=True):
            meta, rows = self._read(table, family)
            meta.check([c.column for c in conds], family)
            keep = [r for r in rows if not all(_matches(meta, r, c) for c in conds)]
            if len(keep) != len(rows):
                self._write(meta, keep)
            return len(rows) - len(keep)

    def require(self, family: str, table: str, columns: Mapping[str, Requirement]) -> bool:
        create = self.mode in ("createclose", "createchar")
        with self._locked(exclusive=True):
            if not self._path(table).exists():
                if not create:
                    return False
                cols = [(c, self._type(r), r.size) for c, r in columns.items()]
                self._write(Table(table, cols), [])
                return True
            meta, rows = self._read(table, family)
            missing = [c for c in columns if c not in meta.types]
            if not missing:
                return True
            if not create:
                return False
            extra = [(c, self._type(columns[c]), columns[c].size) for c in missing]
            cols = [(c, *meta.types[c]) for c in meta.columns]
            self._write(Table(table, [*cols, *extra]), rows)
            return True

    def _type(self, req: Requirement) -> str:
        return "CHAR" if self.mode == "createchar" else req.type.name

    def load_static(self, table: str, filename: str) -> list[StaticRow]:
        with self._locked(exclusive=False):
            meta, rows = self._read(table, filename)
        meta.check(_STATIC, filename)
        out = [
            StaticRow(
                r.get("category", ""),
                r.get("var_name", ""),
                r.get("var_val", ""),
                int(r.get("cat_metric") or 0),
                int(r.get("var_metric") or 0),
            )
            for r in rows
            if r.get("filename", "") == filename
            and r.get("commented")  # NULL is not active, as with SQL's commented = 0
            and int(r["commented"]) == 0
        ]
        out.sort(key=lambda s: (-s.cat_metric, s.var_metric, s.category, s.var_name))
        return out
