"""The ``memory`` driver: tables in process memory, for users' own unit tests.

Each database name is one store shared by every ``Realtime`` in the process (so a test can
seed it and the code under test read it); :func:`reset` empties one or all stores. Tables are
created by ``require`` (its ``requirements`` setting defaults to ``createclose``: there is no
schema to protect; ``warn`` makes ``require`` only check) or by :func:`create_table`.
Semantics are exactly the contract's: exact matching, code-point text order, integer columns
(declared through ``require`` with an integer ``RQ`` type) compared numerically. Its change
feed pushes each write to every subscriber in the process (the store is the process's own).
"""

from __future__ import annotations

import copy
import operator
import queue
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..capabilities import Capabilities
from ..changes import Change, ChangeFeed, Subscription
from ..conditions import Condition, check_identifier, like_regex
from ..datatypes import RQ, STATIC_COLUMNS, Requirement, Row, StaticRow
from ..driver import Connection, ConnectionDriver
from ..errors import ConfigError, QueryError

__all__ = ["MemoryStore", "create_table", "driver", "reset", "store"]


@dataclass
class _Table:
    name: str
    columns: list[str]
    numeric: set[str] = field(default_factory=set)
    rows: list[dict[str, str]] = field(default_factory=list)

    def check(self, columns: Iterable[str], family: str) -> None:
        for column in columns:
            if column not in self.columns:
                raise QueryError(
                    f"family {family!r}: table {self.name!r} has no column {column!r}",
                    family=family,
                    table=self.name,
                    field=column,
                )


def _number(text: str) -> int | float | None:
    """The number ``text`` spells: exact for integers (no 2**53 collisions), else a float."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return None


def _compare(op: str, left: str, right: str, numeric: bool) -> bool:
    if numeric:
        a, b = _number(left), _number(right)
        if a is not None and b is not None:
            return _ORDER[op](a, b)
    return _ORDER[op](left, right)


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _matches(table: _Table, row: Mapping[str, str], cond: Condition) -> bool:
    value = row.get(cond.column, "")
    op = cond.op
    numeric = cond.column in table.numeric
    if op == "=":
        if numeric and value and cond.value:
            a, b = _number(value), _number(cond.value)
            if a is not None and b is not None:
                return a == b
        return value == cond.value
    if op == "!=":
        if numeric and value and cond.value:
            a, b = _number(value), _number(cond.value)
            if a is not None and b is not None:
                return a != b
        return value != cond.value
    if op == "LIKE":
        return like_regex(cond.value).fullmatch(value) is not None
    if op == "NOT LIKE":
        return like_regex(cond.value).fullmatch(value) is None
    if value == "":
        return False
    return _compare(op, value, cond.value, numeric)


class MemoryStore(Connection):
    """One named in-memory database."""

    CAPABILITIES = Capabilities.full(require_create=True, change_feed="notify")
    #: False for a connection whose ``requirements`` setting is ``warn``: require only checks.
    creates = True

    def __init__(self, name: str) -> None:
        self.name = name
        self.tables: dict[str, _Table] = {}
        self.lock = threading.RLock()
        self.subscribers: list[_Subscription] = []

    def change_feed(self) -> ChangeFeed:
        return _Feed(self)

    def _changed(self, table: str, rows: Iterable[Mapping[str, str]] | None) -> None:
        """Tell every subscriber (the lock is held): ``rows`` before and after, or ``None``."""
        for sub in self.subscribers:
            sub.deliver(table, rows)

    def __repr__(self) -> str:
        return f"<MemoryStore {self.name!r} {len(self.tables)} tables>"

    def table(self, name: str, family: str) -> _Table:
        table = self.tables.get(name)
        if table is None:
            raise QueryError(
                f"family {family!r}: table {name!r} does not exist in memory store {self.name!r}",
                family=family,
                table=name,
            )
        return table

    def _select(self, table: _Table, conds: tuple[Condition, ...]) -> list[dict[str, str]]:
        return [r for r in table.rows if all(_matches(table, r, c) for c in conds)]

    def _out(self, table: _Table, row: Mapping[str, str]) -> Row:
        return {c: row[c] for c in table.columns if row.get(c)}

    def load(self, family: str, table_name: str, conds: tuple[Condition, ...]) -> Row | None:
        with self.lock:
            table = self.table(table_name, family)
            table.check((c.column for c in conds), family)
            for row in table.rows:
                if all(_matches(table, row, c) for c in conds):
                    return self._out(table, row)
            return None

    def load_multi(self, family: str, table_name: str, conds: tuple[Condition, ...]) -> list[Row]:
        with self.lock:
            table = self.table(table_name, family)
            table.check((c.column for c in conds), family)
            rows = self._select(table, conds)
            first = conds[0].column
            if first in table.numeric:
                rows.sort(key=lambda r: _sort_number(r.get(first, "")))
            else:
                rows.sort(key=lambda r: r.get(first, ""))
            return [self._out(table, r) for r in rows]

    def update2(
        self,
        family: str,
        table_name: str,
        conds: tuple[Condition, ...],
        values: tuple[tuple[str, str], ...],
    ) -> int:
        with self.lock:
            table = self.table(table_name, family)
            table.check((c.column for c in conds), family)
            table.check((c for c, _ in values), family)
            rows = self._select(table, conds)
            before = [dict(r) for r in rows] if self.subscribers else []
            for row in rows:
                for column, value in values:
                    if value:
                        row[column] = value
                    else:  # "" is NULL: the column is left out, as a table stores NULL
                        row.pop(column, None)
            if rows and self.subscribers:
                self._changed(table.name, [*before, *rows])
            return len(rows)

    def store(self, family: str, table_name: str, values: tuple[tuple[str, str], ...]) -> int:
        with self.lock:
            table = self.table(table_name, family)
            table.check((c for c, _ in values), family)
            table.rows.append({column: value for column, value in values if value})
            if self.subscribers:
                self._changed(table.name, table.rows[-1:])
            return 1

    def destroy(self, family: str, table_name: str, conds: tuple[Condition, ...]) -> int:
        with self.lock:
            table = self.table(table_name, family)
            table.check((c.column for c in conds), family)
            keep = [r for r in table.rows if not all(_matches(table, r, c) for c in conds)]
            count = len(table.rows) - len(keep)
            if count and self.subscribers:
                kept = {id(r) for r in keep}
                self._changed(table.name, [r for r in table.rows if id(r) not in kept])
            table.rows = keep
            return count

    def insert_raw(self, table: str, row: Mapping[str, str | None]) -> None:
        """Append ``row`` as given (``None`` values left out, others kept, ``""`` included),
        bypassing the contract's checks, as another program writing the store would; change
        feeds report it."""
        with self.lock:
            stored = {k: v for k, v in row.items() if v is not None}
            self.table(table, table).rows.append(stored)
            if self.subscribers:
                self._changed(table, [stored])

    def create_table(
        self, name: str, columns: Sequence[str] | Mapping[str, Requirement | RQ]
    ) -> None:
        """Create (or extend) a table; integer ``RQ`` types make a column numeric."""
        check_identifier(name, kind="table")
        with self.lock:
            table = self.tables.setdefault(name, _Table(name, []))
            items = (
                columns.items() if isinstance(columns, Mapping) else ((c, None) for c in columns)
            )
            for column, kind in items:
                check_identifier(column)
                if column not in table.columns:
                    table.columns.append(column)
                rq = kind.type if isinstance(kind, Requirement) else kind
                if isinstance(rq, RQ) and (rq.is_int or rq is RQ.FLOAT):
                    table.numeric.add(column)
            self._changed(name, None)

    def require(self, family: str, table_name: str, columns: Mapping[str, Requirement]) -> bool:
        if self.creates:
            self.create_table(table_name, columns)
            return True
        with self.lock:
            table = self.tables.get(table_name)
            return table is not None and all(c in table.columns for c in columns)

    def load_static(self, table_name: str, filename: str) -> list[StaticRow]:
        with self.lock:
            table = self.table(table_name, filename)
            table.check(STATIC_COLUMNS, filename)
            rows = [
                r
                for r in table.rows
                if r.get("filename", "") == filename
                and r.get("commented")  # NULL is not active, as with SQL's commented = 0
                and _int(r.get("commented")) == 0
            ]
            out = [
                StaticRow(
                    r.get("category", ""),
                    r.get("var_name", ""),
                    r.get("var_val", ""),
                    _int(r.get("cat_metric")),
                    _int(r.get("var_metric")),
                )
                for r in rows
            ]
            out.sort(key=lambda s: (-s.cat_metric, s.var_metric, s.category, s.var_name))
            return out


class _Feed(ChangeFeed):
    kind = "notify"

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def subscribe(self, tables: Mapping[str, str | None], *, interval: float) -> Subscription:
        sub = _Subscription(self.store, dict(tables))
        with self.store.lock:
            self.store.subscribers.append(sub)
        return sub


class _Subscription(Subscription):
    """Changes queued by the writers themselves (under the store's lock, in commit order)."""

    def __init__(self, store: MemoryStore, tables: dict[str, str | None]) -> None:
        self.store = store
        self.tables = frozenset(tables)
        self.keys = tables
        self.queue: queue.SimpleQueue[Change] = queue.SimpleQueue()

    def deliver(self, table: str, rows: Iterable[Mapping[str, str]] | None) -> None:
        if table not in self.tables:
            return
        key = self.keys[table]
        if rows is None or key is None:
            self.queue.put(Change(table))
        else:
            self.queue.put(Change(table, key, frozenset(r.get(key, "") for r in rows)))

    def wait(self, timeout: float) -> list[Change] | None:
        try:
            out = [self.queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                out.append(self.queue.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        with self.store.lock:
            if self in self.store.subscribers:
                self.store.subscribers.remove(self)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _sort_number(value: str) -> tuple[int, int | float, str]:
    number = _number(value) if value else None
    if number is None:
        return (0 if value == "" else 2, 0.0, value)
    return (1, number, value)


_stores: dict[str, MemoryStore] = {}
_stores_lock = threading.Lock()


def store(name: str) -> MemoryStore:
    """The process-wide store called ``name`` (created on first use)."""
    with _stores_lock:
        found = _stores.get(name)
        if found is None:
            found = _stores[name] = MemoryStore(name)
        return found


def create_table(
    database: str, table: str, columns: Sequence[str] | Mapping[str, Requirement | RQ]
) -> None:
    """Create a table in the store ``database``."""
    store(database).create_table(table, columns)


def reset(name: str | None = None) -> None:
    """Forget one store, or every store."""
    with _stores_lock:
        if name is None:
            _stores.clear()
        else:
            _stores.pop(name, None)


# -- the plugin ---------------------------------------------------------------------------


_MODES = ("createclose", "createchar", "warn")


def _connect(database: str, settings: Mapping[str, str], config_dir: Path | None) -> MemoryStore:
    shared = store(database)
    mode = settings.get("requirements", "createclose").strip().lower()
    if mode not in _MODES:
        raise ConfigError(
            f"memory database {database!r}: requirements must be one of {', '.join(_MODES)}"
        )
    if mode != "warn":
        return shared
    checking = copy.copy(shared)  # the same tables and lock; require only checks
    checking.creates = False
    return checking


#: The plugin object the ``memory`` entry point names.
driver = ConnectionDriver(_connect, MemoryStore.CAPABILITIES)
