"""Deliberately broken drivers: the suite must catch each one, for the reason it is broken.

They depend only on the hook contract (not on any driver's internals):

* :class:`Driver` is a *correct* in-memory driver (tables are the suite's reference
  :class:`~ara_conformance.Model`); each broken driver subclasses it and changes one thing;
* :class:`Pasting` is a small SQL driver over the standard library's ``sqlite3`` that pastes
  values into its SQL between quotes;
* :class:`SwallowsErrors` is the example ``jsonfile`` driver turning storage failures into
  "not found" (it needs a storage that really goes down).

:data:`BROKEN` lists each with the standard tests that must fail on it (and a fragment of
the failure message), tests that must still pass, and the suite classes to run.
"""

from __future__ import annotations

import copy
import queue
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import ara_jsonfile
from ara_jsonfile.conformance import JsonFileTarget

from ara_conformance import Model, TableSpec, Target
from ara_realtime import BackendError, Capabilities, QueryError, Realtime, hookimpl
from ara_realtime.changes import Change, ChangeFeed, Subscription
from ara_realtime.conditions import Condition
from ara_realtime.datatypes import Requirement, Row, StaticRow
from ara_realtime.plugins import Plugins

Values = tuple[tuple[str, str], ...]
Conds = tuple[Condition, ...]
T = TypeVar("T")
_STATIC = ("filename", "category", "var_name", "var_val", "cat_metric", "var_metric", "commented")


# -- a correct reference driver -----------------------------------------------------------


class RefTable:
    def __init__(
        self, name: str, columns: Mapping[str, Requirement], *, fold: bool, numbers: bool
    ) -> None:
        self.name = name
        self.types = dict(columns)
        integer = (
            frozenset(c for c, r in columns.items() if r.type.is_int) if numbers else frozenset()
        )
        self.model = Model(list(columns), integer, case_insensitive=fold)

    def add(self, columns: Mapping[str, Requirement]) -> None:
        for column, req in columns.items():
            if column not in self.types:
                self.types[column] = req
                self.model.columns = [*self.model.columns, column]

    def check(self, family: str, columns: Iterator[str] | tuple[str, ...] | list[str]) -> None:
        for column in columns:
            if column not in self.types:
                raise QueryError(
                    f"family {family!r}: table {self.name!r} has no column {column!r}",
                    family=family,
                    table=self.name,
                    field=column,
                )

    def out(self, row: Mapping[str, str]) -> Row:
        return {c: row[c] for c in self.model.columns if row.get(c)}


def _triples(conds: Conds) -> list[tuple[str, str, str]]:
    return [(c.column, c.op, c.value) for c in conds]


_CREATE_MODES = ("createclose", "createchar")
_INTEGER = re.compile(r"-?[0-9]+")


class RefConnection:
    """One database: tables in memory, semantics from the suite's model.

    ``mode`` is the ``requirements`` setting (``warn``, ``createclose``, ``createchar``) of the
    connection; connections of one database share its tables. ``limit`` is the declared
    ``max_value_length``, enforced when set.
    """

    def __init__(
        self,
        database: str,
        *,
        fold: bool = False,
        numbers: bool = True,
        mode: str = "warn",
        limit: int | None = None,
    ) -> None:
        self.database = database
        self.tables: dict[str, RefTable] = {}
        self.lock = threading.RLock()
        self.fold = fold
        self.numbers = numbers
        #: change-feed subscriptions (only drivers declaring a feed make any)
        self.subscribers: list[RefSubscription] = []
        self.mode = mode
        self.limit = limit

    def changed(self, table: str, old: list[dict[str, str]], new: list[dict[str, str]]) -> None:
        """Tell the subscribers: rows ``old`` became ``new`` (their names are the keys)."""
        for sub in list(self.subscribers):
            sub.deliver(table, [r.get("name", "") for r in old], [r.get("name", "") for r in new])

    def with_mode(self, mode: str) -> RefConnection:
        """A connection to the same tables with another ``requirements`` mode."""
        other = copy.copy(self)
        other.mode = mode
        return other

    def require(self, table: str, columns: Mapping[str, Requirement]) -> bool:
        with self.lock:
            if self.mode in _CREATE_MODES:
                self.create(table, columns)
                return True
            found = self.tables.get(table)
            return found is not None and all(c in found.types for c in columns)

    def check_lengths(self, family: str, table: str, values: Values) -> None:
        types = self.table(family, table).types
        for column, value in values:
            if value and types[column].type.is_int and not _INTEGER.fullmatch(value):
                raise QueryError(
                    f"family {family!r}: {column!r} holds integers",
                    family=family,
                    table=table,
                    field=column,
                )
            if self.limit is not None and len(value) > self.limit:
                raise QueryError(
                    f"family {family!r}: a value of {column!r} is longer than "
                    f"{self.limit} characters",
                    family=family,
                    table=table,
                    field=column,
                )

    def table(self, family: str, name: str) -> RefTable:
        try:
            return self.tables[name]
        except KeyError:
            raise QueryError(f"no table {name!r}", family=family, table=name) from None

    def create(self, name: str, columns: Mapping[str, Requirement]) -> None:
        with self.lock:
            if name in self.tables:
                self.tables[name].add(columns)
            else:
                self.tables[name] = RefTable(name, columns, fold=self.fold, numbers=self.numbers)

    def select(
        self, family: str, table: str, conds: Conds
    ) -> tuple[RefTable, list[dict[str, str]]]:
        t = self.table(family, table)
        t.check(family, [c.column for c in conds])
        return t, t.model.select(_triples(conds))

    def load(self, family: str, table: str, conds: Conds) -> Row | None:
        with self.lock:
            t, hits = self.select(family, table, conds)
            return t.out(hits[0]) if hits else None

    def load_multi(self, family: str, table: str, conds: Conds) -> list[Row]:
        with self.lock:
            t = self.table(family, table)
            t.check(family, [c.column for c in conds])
            return [t.out(r) for r in t.model.load_multi(_triples(conds))]

    def update2(self, family: str, table: str, conds: Conds, values: Values) -> int:
        with self.lock:
            t = self.table(family, table)
            t.check(family, [c.column for c in conds])
            t.check(family, [c for c, _ in values])
            self.check_lengths(family, table, values)
            old = [dict(r) for r in t.model.select(_triples(conds))]
            count = t.model.update(_triples(conds), dict(values))
            new = [{**r, **{k: v for k, v in values if k == "name"}} for r in old]
            self.changed(table, old, new)
            return count

    def store(self, family: str, table: str, values: Values) -> int:
        with self.lock:
            t = self.table(family, table)
            t.check(family, [c for c, _ in values])
            self.check_lengths(family, table, values)
            count = t.model.store(dict(values))
            self.changed(table, [], [dict(values)])
            return count

    def destroy(self, family: str, table: str, conds: Conds) -> int:
        with self.lock:
            t = self.table(family, table)
            t.check(family, [c.column for c in conds])
            old = [dict(r) for r in t.model.select(_triples(conds))]
            count = t.model.destroy(_triples(conds))
            self.changed(table, old, [])
            return count

    def load_static(self, table: str, filename: str) -> list[StaticRow]:
        with self.lock:
            t = self.table(filename, table)
            t.check(filename, _STATIC)
            rows = [r for r in t.model.rows if r.get("filename") == filename and _active(r)]
            out = [_static(r) for r in rows]
            out.sort(key=lambda s: (-s.cat_metric, s.var_metric, s.category, s.var_name))
            return out


def _active(r: Mapping[str, str]) -> bool:
    """``commented = 0``: a NULL ``commented`` is not active."""
    return bool(r.get("commented")) and int(r["commented"]) == 0


def _static(r: Mapping[str, str]) -> StaticRow:
    return StaticRow(
        r.get("category", ""),
        r.get("var_name", ""),
        r.get("var_val", ""),
        int(r.get("cat_metric") or 0),
        int(r.get("var_metric") or 0),
    )


class Driver:
    """A correct driver over :class:`RefConnection` (one per database)."""

    caps = Capabilities.full(require_create=True)
    fold = False
    numbers = True

    def __init__(self) -> None:
        self.connections: dict[str, RefConnection] = {}

    def connection(self, database: str) -> RefConnection:
        found = self.connections.get(database)
        if found is None:
            found = self.connections[database] = RefConnection(
                database, fold=self.fold, numbers=self.numbers, limit=self.caps.max_value_length
            )
        return found

    @hookimpl
    def ara_capabilities(self) -> Capabilities:
        return self.caps

    @hookimpl
    def ara_connect(self, database: str, settings: Mapping[str, str]) -> RefConnection:
        return self.connection(database).with_mode(settings.get("requirements", "warn"))

    @hookimpl
    def ara_load(
        self, connection: RefConnection, family: str, table: str, conditions: Conds
    ) -> Row | None:
        return connection.load(family, table, conditions)

    @hookimpl
    def ara_load_multi(
        self, connection: RefConnection, family: str, table: str, conditions: Conds
    ) -> list[Row]:
        return connection.load_multi(family, table, conditions)

    @hookimpl
    def ara_update(
        self, connection: RefConnection, family: str, table: str, key: Condition, values: Values
    ) -> int:
        return connection.update2(family, table, (key,), values)

    @hookimpl
    def ara_update2(
        self, connection: RefConnection, family: str, table: str, conditions: Conds, values: Values
    ) -> int:
        return connection.update2(family, table, conditions, values)

    @hookimpl
    def ara_store(self, connection: RefConnection, family: str, table: str, values: Values) -> int:
        return connection.store(family, table, values)

    @hookimpl
    def ara_destroy(
        self, connection: RefConnection, family: str, table: str, conditions: Conds
    ) -> int:
        return connection.destroy(family, table, conditions)

    @hookimpl
    def ara_require(
        self, connection: RefConnection, table: str, columns: Mapping[str, Requirement]
    ) -> bool:
        return connection.require(table, columns)

    @hookimpl
    def ara_unload(self) -> bool:
        return False

    @hookimpl
    def ara_load_static(
        self, connection: RefConnection, table: str, filename: str
    ) -> list[StaticRow]:
        return connection.load_static(table, filename)


def _plugins(name: str, driver: object) -> Plugins:
    plugins = Plugins(allow=[])
    plugins.add_driver(name, driver)
    return plugins


class DriverTarget(Target):
    """A target for a :class:`Driver` registered in code (no entry point)."""

    def __init__(self, name: str, driver: Driver) -> None:
        super().__init__(name)
        self.driver_object = driver

    def make_plugins(self) -> Plugins:
        return _plugins(self.driver, self.driver_object)

    def create_table(
        self, rt: Realtime, family: str, database: str, table: str, spec: TableSpec
    ) -> None:
        self.driver_object.connection(database).create(table, spec.columns)

    def read_raw(self, database: str, table: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.driver_object.connection(database).tables[table].model.rows]

    def write_raw(self, database: str, table: str, row: Mapping[str, str | None]) -> None:
        connection = self.driver_object.connection(database)
        stored = {k: v for k, v in row.items() if v}
        with connection.lock:
            connection.tables[table].model.rows.append(stored)
            connection.changed(table, [], [stored])


# -- broken variants of the reference driver ----------------------------------------------


class Merging(Driver):
    """load returns every matching row merged into one (Asterisk's LDAP habit)."""

    @hookimpl
    def ara_load(
        self, connection: RefConnection, family: str, table: str, conditions: Conds
    ) -> Row | None:
        t, hits = connection.select(family, table, conditions)
        merged: dict[str, str] = {}
        for row in hits:
            merged.update(row)
        return t.out(merged) if hits else None


class EmptyValues(Driver):
    """Rows carry "" for NULL columns instead of leaving them out."""

    @hookimpl
    def ara_load(
        self, connection: RefConnection, family: str, table: str, conditions: Conds
    ) -> Row | None:
        t, hits = connection.select(family, table, conditions)
        return {c: hits[0].get(c, "") for c in t.model.columns} if hits else None

    @hookimpl
    def ara_load_multi(
        self, connection: RefConnection, family: str, table: str, conditions: Conds
    ) -> list[Row]:
        cols = connection.table(family, table).model.columns
        return [
            {c: r.get(c, "") for c in cols}
            for r in connection.load_multi(family, table, conditions)
        ]


class NotFoundFailsOver(Driver):
    """ "No rows" is raised as a backend failure, so the core asks the next backend (#1305)."""

    @hookimpl
    def ara_load(
        self, connection: RefConnection, family: str, table: str, conditions: Conds
    ) -> Row | None:
        row = connection.load(family, table, conditions)
        if row is None:
            raise BackendError("no rows")
        return row


class ChangedCounts(Driver):
    """update counts rows *changed*, not rows matched (MySQL without found-rows)."""

    def _changed(
        self, connection: RefConnection, family: str, table: str, conds: Conds, values: Values
    ) -> int:
        t = connection.table(family, table)
        before = [dict(r) for r in t.model.rows]
        connection.update2(family, table, conds, values)
        return sum(1 for a, b in zip(before, t.model.rows) if a != b)

    @hookimpl
    def ara_update(
        self, connection: RefConnection, family: str, table: str, key: Condition, values: Values
    ) -> int:
        return self._changed(connection, family, table, (key,), values)

    @hookimpl
    def ara_update2(
        self, connection: RefConnection, family: str, table: str, conditions: Conds, values: Values
    ) -> int:
        return self._changed(connection, family, table, conditions, values)


class LikeWithoutEscapes(Driver):
    """LIKE has no escape character: a backslash is an ordinary character."""

    @hookimpl
    def ara_load_multi(
        self, connection: RefConnection, family: str, table: str, conditions: Conds
    ) -> list[Row]:
        literal = tuple(
            c._replace(value=c.value.replace("\\", "\\\\")) if "LIKE" in c.op else c
            for c in conditions
        )
        return connection.load_multi(family, table, literal)


class WrongStaticOrder(Driver):
    """Static rows come in insertion order (``ORDER BY id``), not the contract's order."""

    @hookimpl
    def ara_load_static(
        self, connection: RefConnection, table: str, filename: str
    ) -> list[StaticRow]:
        rows = connection.table(filename, table).model.rows
        return [
            _static(r)
            for r in rows
            if r.get("filename") == filename and int(r.get("commented") or 0) == 0
        ]


class MetricsAsText(Driver):
    """Static rows in the right order, but ``cat_metric``/``var_metric`` handed over as text
    (what a driver selecting ``CAST(... AS CHAR)`` for every column would do)."""

    @hookimpl
    def ara_load_static(  # type: ignore[override]  # text metrics: the very fault under test
        self, connection: RefConnection, table: str, filename: str
    ) -> list[tuple[str, ...]]:
        return [(*r[:3], str(r[3]), str(r[4])) for r in connection.load_static(table, filename)]


class CaseFolding(Driver):
    """Matching ignores letter case, but the driver does not declare case_insensitive."""

    fold = True


class IgnoresUnknownColumns(Driver):
    """Conditions on unknown columns are silently dropped (Asterisk's pgsql driver)."""

    @hookimpl
    def ara_load(
        self, connection: RefConnection, family: str, table: str, conditions: Conds
    ) -> Row | None:
        t = connection.table(family, table)
        kept = [c for c in _triples(conditions) if c[0] in t.types]
        hits = t.model.select(kept)
        return t.out(hits[0]) if hits else None


class NullsLast(Driver):
    """load_multi puts absent values last (PostgreSQL's default NULL order)."""

    @hookimpl
    def ara_load_multi(
        self, connection: RefConnection, family: str, table: str, conditions: Conds
    ) -> list[Row]:
        rows = connection.load_multi(family, table, conditions)
        first = conditions[0].column
        return [r for r in rows if r.get(first)] + [r for r in rows if not r.get(first)]


class TextNumbers(Driver):
    """Integer columns compare and sort as text (``"10" < "9"``)."""

    numbers = False


class LostWrites(Driver):
    """store copies the rows, yields, writes the copy back, without a lock."""

    @hookimpl
    def ara_store(self, connection: RefConnection, family: str, table: str, values: Values) -> int:
        model = connection.table(family, table).model
        rows = list(model.rows)
        time.sleep(0.001)
        rows.append({c: v for c, v in values if v})
        model.rows = rows
        return 1


class WildcardEquality(Driver):
    """``=`` is implemented with LIKE, so ``%`` and ``_`` in a value act as wildcards."""

    @hookimpl
    def ara_load_multi(
        self, connection: RefConnection, family: str, table: str, conditions: Conds
    ) -> list[Row]:
        conds = tuple(c._replace(op="LIKE") if c.op == "=" and c.value else c for c in conditions)
        return connection.load_multi(family, table, conds)


class TrimsValues(Driver):
    """Values are stripped of leading and trailing spaces on the way in."""

    @hookimpl
    def ara_store(self, connection: RefConnection, family: str, table: str, values: Values) -> int:
        return connection.store(family, table, tuple((c, v.strip()) for c, v in values))


class CodecLiar(Driver):
    """Declares the ^XX codec but stores values as they are."""

    caps = Capabilities.full(require_create=True, codec=True)


class DeclaresMissingHook(Driver):
    """Declares update2 but implements no ara_update2 hook."""

    ara_update2 = None  # type: ignore[assignment]


class UndeclaredStore(Driver):
    """Implements store but does not declare it: store must be reported unsupported."""

    caps = Capabilities.full(require_create=True).without(["store"])


class ReadOnly(Driver):
    """A correct read-only driver (load and load_multi only): nothing may fail."""

    caps = Capabilities(operations=frozenset({"load", "load_multi"}))


class Nothing(Driver):
    """A correct driver declaring no operation: only the declaration checks run."""

    caps = Capabilities()


# -- change feeds -------------------------------------------------------------------------


class RefSubscription(Subscription):
    """Changes queued by the writers (under the connection's lock, in commit order)."""

    def __init__(self, connection: RefConnection, tables: Mapping[str, str | None]) -> None:
        self.connection = connection
        self.tables = frozenset(tables)
        self.queue: queue.SimpleQueue[Change] = queue.SimpleQueue()
        with connection.lock:
            connection.subscribers.append(self)

    def deliver(self, table: str, old: list[str], new: list[str]) -> None:
        if table in self.tables:
            self.queue.put(Change(table, "name", frozenset(old + new)))

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
        with self.connection.lock:
            if self in self.connection.subscribers:
                self.connection.subscribers.remove(self)


class RefFeed(ChangeFeed):
    kind = "notify"

    def __init__(self, connection: RefConnection, subscription: type[RefSubscription]) -> None:
        self.connection = connection
        self.subscription = subscription

    def subscribe(self, tables: Mapping[str, str | None], *, interval: float) -> Subscription:
        return self.subscription(self.connection, tables)


class WithFeed(Driver):
    """A correct driver with a change feed (writes push changes naming old and new keys)."""

    caps = Capabilities.full(require_create=True, change_feed="notify")
    subscription = RefSubscription

    @hookimpl
    def ara_change_feed(self, connection: RefConnection) -> ChangeFeed:
        return RefFeed(connection, self.subscription)


class _NewKeysOnly(RefSubscription):
    def deliver(self, table: str, old: list[str], new: list[str]) -> None:
        super().deliver(table, [], new or old)


class FeedForgetsOldKeys(WithFeed):
    """Changes name the rows' new keys only: a renamed row's old key stays cached."""

    subscription = _NewKeysOnly


class _LastOnly(RefSubscription):
    def wait(self, timeout: float) -> list[Change] | None:
        got = super().wait(timeout)
        return got[-1:] if got else got


class FeedKeepsTheLast(WithFeed):
    """Each wait returns the last change queued and drops the others, without saying so."""

    subscription = _LastOnly


class FeedNotReturned(Driver):
    """Declares a change feed but implements no ara_change_feed hook."""

    caps = Capabilities.full(require_create=True, change_feed="poll")


class ValueLimit(Driver):
    """A correct driver declaring ``max_value_length``: values past it are refused."""

    caps = Capabilities.full(require_create=True, max_value_length=30)


class TruncatesAtLimit(ValueLimit):
    """Declares ``max_value_length`` but cuts longer values to it, silently."""

    @staticmethod
    def _cut(values: Values) -> Values:
        return tuple((c, v[:30]) for c, v in values)

    @hookimpl
    def ara_store(self, connection: RefConnection, family: str, table: str, values: Values) -> int:
        return connection.store(family, table, self._cut(values))

    @hookimpl
    def ara_update(
        self, connection: RefConnection, family: str, table: str, key: Condition, values: Values
    ) -> int:
        return connection.update2(family, table, (key,), self._cut(values))

    @hookimpl
    def ara_update2(
        self, connection: RefConnection, family: str, table: str, conditions: Conds, values: Values
    ) -> int:
        return connection.update2(family, table, conditions, self._cut(values))


class RequireAlwaysCreates(Driver):
    """``require`` adds missing columns whatever the ``requirements`` mode, and says True."""

    @hookimpl
    def ara_require(
        self, connection: RefConnection, table: str, columns: Mapping[str, Requirement]
    ) -> bool:
        return connection.with_mode("createclose").require(table, columns)


class StaleAfterUnload(Driver):
    """Caches what ``load``/``load_multi`` return (dropped on its own writes), but ``unload``
    leaves the cache in place."""

    def __init__(self) -> None:
        super().__init__()
        self.cache: dict[tuple[str, str, Conds], Any] = {}

    @hookimpl
    def ara_load(
        self, connection: RefConnection, family: str, table: str, conditions: Conds
    ) -> Row | None:
        key = ("load", table, conditions)
        if key not in self.cache:
            self.cache[key] = connection.load(family, table, conditions)
        return self.cache[key]  # type: ignore[no-any-return]

    @hookimpl
    def ara_load_multi(
        self, connection: RefConnection, family: str, table: str, conditions: Conds
    ) -> list[Row]:
        key = ("load_multi", table, conditions)
        if key not in self.cache:
            self.cache[key] = connection.load_multi(family, table, conditions)
        return list(self.cache[key])

    @hookimpl
    def ara_store(self, connection: RefConnection, family: str, table: str, values: Values) -> int:
        self.cache.clear()
        return connection.store(family, table, values)

    @hookimpl
    def ara_unload(self) -> bool:
        return False  # the bug: the row cache stays


class NullCommentedActive(Driver):
    """Static rows whose ``commented`` is NULL are read as active (``int(None or 0)``)."""

    @hookimpl
    def ara_load_static(
        self, connection: RefConnection, table: str, filename: str
    ) -> list[StaticRow]:
        rows = connection.table(filename, table).model.rows
        out = [
            _static(r)
            for r in rows
            if r.get("filename") == filename and int(r.get("commented") or 0) == 0
        ]
        out.sort(key=lambda s: (-s.cat_metric, s.var_metric, s.category, s.var_name))
        return out


class FirstConditionOnly(Driver):
    """``load_multi`` applies only the first condition."""

    @hookimpl
    def ara_load_multi(
        self, connection: RefConnection, family: str, table: str, conditions: Conds
    ) -> list[Row]:
        connection.table(family, table).check(family, [c.column for c in conditions])
        return connection.load_multi(family, table, conditions[:1])


class NotEqualSkipsNull(Driver):
    """``!=`` on an integer column never matches an absent value (SQL's ``col <> v``)."""

    @hookimpl
    def ara_load_multi(
        self, connection: RefConnection, family: str, table: str, conditions: Conds
    ) -> list[Row]:
        t = connection.table(family, table)
        rows = connection.load_multi(family, table, conditions)
        for c in conditions:
            if c.op == "!=" and c.column in t.model.integer:
                rows = [r for r in rows if r.get(c.column)]
        return rows


class CapabilitiesNeedAConnection(Driver):
    """``ara_capabilities`` reads the connection, so it fails when asked without one."""

    @hookimpl
    # the extra argument is the fault under test
    def ara_capabilities(self, connection: RefConnection) -> Capabilities:  # type: ignore[override]
        return self.caps if connection.database else Capabilities()


# -- values pasted into SQL ---------------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PastingConnection:
    """A small SQLite driver that pastes values between quotes (and is otherwise right)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _run(self, sql: str) -> sqlite3.Cursor:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=5)
        try:
            return conn.execute(sql)
        except sqlite3.Error as exc:
            raise QueryError(str(exc)) from exc

    def _where(self, conds: Conds) -> str:
        terms = []
        for c in conds:
            col = _q(c.column)
            if c.op == "=" and c.value == "":
                terms.append(f"({col} IS NULL OR {col} = '')")
            else:
                terms.append(f"{col} {c.op} '{c.value}'")  # the bug: the value is pasted
        return " AND ".join(terms)

    def columns(self, table: str) -> list[str]:
        return [r[1] for r in self._run(f"PRAGMA table_info({_q(table)})").fetchall()]

    def select(self, table: str, conds: Conds, order: bool) -> list[Row]:
        cols = self.columns(table)
        sql = f"SELECT * FROM {_q(table)} WHERE {self._where(conds)}"
        if order:
            sql += f" ORDER BY {_q(conds[0].column)}"
        rows = self._run(sql).fetchall()
        return [{c: str(v) for c, v in zip(cols, r) if v is not None and v != ""} for r in rows]

    def store(self, table: str, values: Values) -> int:
        names = ", ".join(_q(c) for c, _ in values)
        pasted = ", ".join("NULL" if v == "" else f"'{v}'" for _, v in values)
        return self._run(f"INSERT INTO {_q(table)} ({names}) VALUES ({pasted})").rowcount

    def require(self, table: str, columns: Mapping[str, Requirement]) -> bool:
        cols = ", ".join(
            f"{_q(c)} {'INTEGER' if r.type.is_int else 'TEXT'}" for c, r in columns.items()
        )
        self._run(f"CREATE TABLE IF NOT EXISTS {_q(table)} ({cols})")
        return True


class Pasting:
    """The driver over :class:`PastingConnection` (load, load_multi, store, require)."""

    @hookimpl
    def ara_capabilities(self) -> Capabilities:
        return Capabilities(
            operations=frozenset({"load", "load_multi", "store", "require"}), require_create=True
        )

    @hookimpl
    def ara_connect(self, settings: Mapping[str, str]) -> PastingConnection:
        return PastingConnection(settings["dbfile"])

    @hookimpl
    def ara_load(self, connection: PastingConnection, table: str, conditions: Conds) -> Row | None:
        rows = connection.select(table, conditions, order=False)
        return rows[0] if rows else None

    @hookimpl
    def ara_load_multi(
        self, connection: PastingConnection, table: str, conditions: Conds
    ) -> list[Row]:
        return connection.select(table, conditions, order=True)

    @hookimpl
    def ara_store(self, connection: PastingConnection, table: str, values: Values) -> int:
        return connection.store(table, values)

    @hookimpl
    def ara_require(
        self, connection: PastingConnection, table: str, columns: Mapping[str, Requirement]
    ) -> bool:
        return connection.require(table, columns)


class PastingTarget(Target):
    def __init__(self, workdir: Path) -> None:
        super().__init__("unescaped", settings={"dbfile": str(workdir / "pasting.db")})

    def make_plugins(self) -> Plugins:
        return _plugins(self.driver, Pasting())


# -- storage failures turned into "not found" ---------------------------------------------


class SwallowsErrors:
    """The jsonfile driver, but a storage failure reads as "not found"."""

    @hookimpl
    def ara_capabilities(self) -> Capabilities:
        return ara_jsonfile.CAPABILITIES

    @hookimpl
    def ara_connect(self, database: str, settings: Mapping[str, str]) -> ara_jsonfile.JsonFileStore:
        return ara_jsonfile.connect(database, settings)

    @staticmethod
    def _quiet(call: Callable[[], T], empty: T) -> T:
        try:
            return call()
        except BackendError:
            return empty

    @hookimpl
    def ara_load(
        self, connection: ara_jsonfile.JsonFileStore, family: str, table: str, conditions: Conds
    ) -> Row | None:
        return self._quiet(lambda: connection.load(family, table, conditions), None)

    @hookimpl
    def ara_load_multi(
        self, connection: ara_jsonfile.JsonFileStore, family: str, table: str, conditions: Conds
    ) -> list[Row]:
        return self._quiet(lambda: connection.load_multi(family, table, conditions), [])

    @hookimpl
    def ara_update(
        self,
        connection: ara_jsonfile.JsonFileStore,
        family: str,
        table: str,
        key: Condition,
        values: Values,
    ) -> int:
        return self._quiet(lambda: connection.update(family, table, (key,), values), 0)

    @hookimpl
    def ara_update2(
        self,
        connection: ara_jsonfile.JsonFileStore,
        family: str,
        table: str,
        conditions: Conds,
        values: Values,
    ) -> int:
        return self._quiet(lambda: connection.update(family, table, conditions, values), 0)

    @hookimpl
    def ara_store(
        self, connection: ara_jsonfile.JsonFileStore, family: str, table: str, values: Values
    ) -> int:
        return self._quiet(lambda: connection.store(family, table, values), 0)

    @hookimpl
    def ara_destroy(
        self, connection: ara_jsonfile.JsonFileStore, family: str, table: str, conditions: Conds
    ) -> int:
        return self._quiet(lambda: connection.destroy(family, table, conditions), 0)

    @hookimpl
    def ara_require(
        self,
        connection: ara_jsonfile.JsonFileStore,
        family: str,
        table: str,
        columns: Mapping[str, Requirement],
    ) -> bool:
        return connection.require(family, table, columns)


class SwallowingTarget(JsonFileTarget):
    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.driver = self.name = "swallows-errors"

    def make_plugins(self) -> Plugins:
        return _plugins(self.driver, SwallowsErrors())


# -- what each must fail ------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One broken driver and how the suite must catch it."""

    name: str
    make: Callable[[Path], Target]
    #: suite classes to run (names in ara_conformance.suite)
    classes: tuple[str, ...]
    #: standard tests that must fail -> a fragment of their failure message
    fail: Mapping[str, str]
    #: standard tests that must pass (the driver is broken in one place only)
    passes: tuple[str, ...] = ()
    #: standard tests that must be reported unsupported
    unsupported: tuple[str, ...] = ()


def _ref(name: str, cls: type[Driver]) -> Callable[[Path], Target]:
    return lambda workdir: DriverTarget(name, cls())


def _case(name: str, cls: type[Driver], classes: tuple[str, ...], **kwargs: Any) -> Case:
    return Case(name, _ref(name, cls), classes, **kwargs)


BROKEN: tuple[Case, ...] = (
    _case(
        "merging",
        Merging,
        ("WritesTests", "StatefulTests"),
        fail={
            "test_load_returns_one_row_never_a_merge": "load merged rows",
            "test_random_operation_sequences": "not one of the matching rows",
        },
        passes=(
            "test_store_returns_one_and_rows_accumulate",
            "test_update2_applies_every_condition",
        ),
    ),
    _case(
        "empty-values",
        EmptyValues,
        ("ValuesTests",),
        fail={
            "test_rows_follow_column_order_without_empty_columns": "empty ones must be left out",
            "test_null_and_empty_are_the_same": "empty value returned",
        },
        passes=("test_storage_holds_what_was_written",),
    ),
    _case(
        "not-found-fails-over",
        NotFoundFailsOver,
        ("FailoverTests",),
        fail={
            "test_not_found_on_a_healthy_primary_never_reaches_the_secondary": (
                "the secondary answered a not-found"
            )
        },
        passes=("test_backend_down_is_a_backend_error",),
    ),
    _case(
        "changed-counts",
        ChangedCounts,
        ("WritesTests",),
        fail={
            "test_update_counts_matched_rows_including_unchanged": "unchanged rows must be counted"
        },
        passes=(
            "test_destroy_counts_and_extra_conditions",
            "test_store_returns_one_and_rows_accumulate",
        ),
    ),
    _case(
        "like-without-escapes",
        LikeWithoutEscapes,
        ("LikeTests",),
        fail={"test_like_escapes": "name LIKE", "test_like_matches_the_model": "LIKE"},
        passes=("test_like_treats_absent_as_empty",),
    ),
    _case(
        "wrong-static-order",
        WrongStaticOrder,
        ("StaticTests",),
        fail={
            "test_static_row_order_and_categories": "row order",
            "test_static_config_round_trip": "round trip",
        },
        passes=("test_static_file_without_rows_is_empty",),
    ),
    _case(
        "static-metrics-as-text",
        MetricsAsText,
        ("StaticTests",),
        fail={"test_static_rows_have_the_hooks_shape": "(str, str, str, int, int)"},
        passes=("test_static_row_order_and_categories", "test_static_include_rows"),
    ),
    Case(
        "unescaped",
        PastingTarget,
        ("ValuesTests",),
        fail={"test_hostile_values_round_trip": "", "test_values_in_every_column": ""},
        passes=("test_rows_follow_column_order_without_empty_columns",),
    ),
    _case(
        "case-folding",
        CaseFolding,
        ("ConditionsTests", "CapabilityTests"),
        fail={
            "test_equality_is_case_and_space_sensitive": "= ignored letter case",
            "test_case_sensitivity_declaration_holds": "case_insensitive is not declared",
        },
        passes=(
            "test_wildcards_are_literal_without_like",
            "test_every_operator_on_integer_columns",
        ),
    ),
    _case(
        "ignores-unknown-columns",
        IgnoresUnknownColumns,
        ("ErrorsTests",),
        fail={"test_unknown_column_names_family_table_and_column": "DID NOT RAISE"},
        passes=("test_unknown_operators_are_query_errors", "test_nul_is_rejected_before_any_io"),
    ),
    _case(
        "nulls-last",
        NullsLast,
        ("OrderingTests",),
        fail={
            "test_absent_values_sort_first": "order by context",
            "test_load_multi_orders_by_the_first_condition": "absent values first",
        },
        passes=("test_integer_columns_order_and_compare_numerically",),
    ),
    _case(
        "text-numbers",
        TextNumbers,
        ("OrderingTests",),
        fail={"test_integer_columns_order_and_compare_numerically": "numeric order"},
        passes=("test_absent_values_sort_first", "test_text_orders_by_code_point"),
    ),
    _case(
        "lost-writes", LostWrites, ("ConcurrencyTests",), fail={"test_threads_on_shared_keys": ""}
    ),
    _case(
        "wildcard-equality",
        WildcardEquality,
        ("ConditionsTests",),
        fail={"test_wildcards_are_literal_without_like": "it is a literal"},
        passes=("test_operator_words_in_any_case_and_spacing",),
    ),
    _case(
        "trims-values",
        TrimsValues,
        ("ValuesTests",),
        fail={"test_hostile_values_round_trip": "'secret': ' '"},
        passes=("test_integer_values_round_trip",),
    ),
    _case(
        "codec-liar",
        CodecLiar,
        ("CodecTests", "CapabilityTests"),
        fail={
            "test_codec_declaration_matches_storage": "codec declared, but stored",
            "test_codec_storage_holds_asterisk_form": "stored",
        },
        passes=("test_codec_conditions_see_decoded_values",),
    ),
    _case(
        "declares-missing-hook",
        DeclaresMissingHook,
        ("CapabilityTests",),
        fail={"test_operation_declarations_hold": "update2 is declared but raised NotSupported"},
        passes=("test_capabilities_are_declared_as_data",),
    ),
    Case(
        "swallows-errors",
        SwallowingTarget,
        ("FailoverTests",),
        fail={"test_backend_down_is_a_backend_error": "must raise BackendError"},
        passes=("test_writes_go_to_the_first_healthy_backend_only",),
    ),
    _case(
        "truncates-at-limit",
        TruncatesAtLimit,
        ("CapabilityTests",),
        fail={"test_max_value_length_is_a_limit": "DID NOT RAISE"},
        passes=("test_max_value_length_declaration_holds",),
    ),
    _case(
        "require-always-creates",
        RequireAlwaysCreates,
        ("RequireTests",),
        fail={"test_require_without_a_create_mode_only_checks": "outside a create mode"},
        passes=("test_require_creates_missing_columns", "test_require_accepts_existing_columns"),
    ),
    _case(
        "stale-after-unload",
        StaleAfterUnload,
        ("RequireTests",),
        fail={"test_unload_drops_cached_rows": "still not seen"},
        passes=("test_unload_keeps_the_data", "test_asterisk_column_names_in_every_operation"),
    ),
    _case(
        "null-commented-active",
        NullCommentedActive,
        ("StaticTests",),
        fail={"test_static_null_fields_and_commented": "only commented = 0 is active"},
        passes=("test_static_row_order_and_categories", "test_static_include_rows"),
    ),
    _case(
        "first-condition-only",
        FirstConditionOnly,
        ("ConditionsTests",),
        fail={"test_every_condition_applies_and_not_equal_matches_absent": "must be ANDed"},
        passes=("test_wildcards_are_literal_without_like",),
    ),
    _case(
        "not-equal-skips-null",
        NotEqualSkipsNull,
        ("ConditionsTests",),
        fail={
            "test_every_condition_applies_and_not_equal_matches_absent": (
                "!= must match absent values"
            )
        },
        passes=("test_every_operator_on_text_columns", "test_large_integers_compare_exactly"),
    ),
    _case(
        "capabilities-need-a-connection",
        CapabilitiesNeedAConnection,
        ("CapabilityTests",),
        fail={"test_capabilities_are_given_without_a_connection": "AttributeError"},
        passes=("test_capabilities_are_declared_as_data", "test_operation_declarations_hold"),
    ),
    _case(
        "value-limit",
        ValueLimit,
        ("ConformanceTests",),
        fail={},
        passes=("test_max_value_length_is_a_limit", "test_max_value_length_declaration_holds"),
    ),
    _case(
        "undeclared-store",
        UndeclaredStore,
        ("WritesTests", "CapabilityTests"),
        fail={},
        passes=("test_operation_declarations_hold",),
        unsupported=(
            "test_store_returns_one_and_rows_accumulate",
            "test_destroy_counts_and_extra_conditions",
        ),
    ),
    _case(
        "read-only",
        ReadOnly,
        ("ConformanceTests",),
        fail={},
        passes=(
            "test_operation_declarations_hold",
            "test_like_with_a_trailing_backslash_is_an_error",
        ),
        unsupported=("test_hostile_values_round_trip", "test_random_operation_sequences"),
    ),
    _case(
        "feed",
        WithFeed,
        ("ChangesTests",),
        fail={},
        passes=(
            "test_the_feed_is_what_the_driver_declares",
            "test_another_realtimes_writes_are_reported",
            "test_a_write_beside_the_driver_is_reported",
            "test_a_burst_of_writes_is_reported_in_full",
            "test_a_cache_on_top_sees_another_realtimes_change",
        ),
    ),
    _case(
        "feed-forgets-old-keys",
        FeedForgetsOldKeys,
        ("ChangesTests",),
        fail={"test_another_realtimes_writes_are_reported": "update renaming a (old and new key)"},
        passes=("test_a_write_beside_the_driver_is_reported",),
    ),
    _case(
        "feed-keeps-the-last",
        FeedKeepsTheLast,
        ("ChangesTests",),
        fail={"test_a_burst_of_writes_is_reported_in_full": "50 updates in a row"},
        passes=("test_the_feed_is_what_the_driver_declares",),
    ),
    _case(
        "feed-not-returned",
        FeedNotReturned,
        ("ChangesTests",),
        fail={"test_the_feed_is_what_the_driver_declares": "ara_change_feed returned None"},
    ),
    _case(
        "nothing",
        Nothing,
        ("ConformanceTests",),
        fail={},
        passes=("test_operation_declarations_hold", "test_capabilities_are_declared_as_data"),
        unsupported=("test_hostile_values_round_trip", "test_backend_down_is_a_backend_error"),
    ),
)

CASES = {c.name: c for c in BROKEN}
