"""The cache's wrappers of a backend's bound operations (installed once by ``ara_bind``).

Reads (``load``, ``load_multi``) look the call up first; a fresh entry is answered with no lock
and no call into the driver: one dict look-up, one clock read and a copy of the row. Writes
(``update``, ``update2``, ``store``, ``destroy``), ``require`` and ``unload`` pass through and
then drop what they may have changed, whether they succeeded or not. Reads inside
:func:`uncached` pass through too (a context variable, read only for cached families).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..conditions import Condition
from .store import FamilyState, Store

__all__ = ["uncached", "wrap_operations"]

_BYPASS: contextvars.ContextVar[bool] = contextvars.ContextVar("ara_cache_bypass", default=False)


@contextlib.contextmanager
def uncached() -> Iterator[None]:
    """Reads in this block (this thread or task) go to the storage, past every cache: they
    neither use cached answers nor keep theirs, and a backend error is raised as it is.

    For readers with a freshness bound of their own that a cached family's ``ttl`` would
    break: the realtime switch re-reads its contexts this way."""
    token = _BYPASS.set(True)
    try:
        yield
    finally:
        _BYPASS.reset(token)


Op = Callable[..., Any]
#: Family spelling -> its state, or ``None`` when the family is not cached.
Families = dict[str, FamilyState | None]
_UNKNOWN: Any = object()


def wrap_operations(
    ops: dict[str, Op],
    store: Store,
    families: Families,
    resolve: Callable[[str], FamilyState | None],
) -> None:
    """Replace the entries of ``ops`` with the cache's wrappers (in place)."""
    if "load" in ops:
        ops["load"] = _load(ops["load"], store, families, resolve)
    if "load_multi" in ops:
        ops["load_multi"] = _load_multi(ops["load_multi"], store, families, resolve)
    written = store.written
    for op, shape in _WRITES.items():
        if op in ops:
            ops[op] = shape(ops[op], written)
    if "require" in ops:
        ops["require"] = _require(ops["require"], store)
    ops["unload"] = _unload(ops.get("unload"), store)


def _load(inner: Op, store: Store, families: Families, resolve: Callable[..., Any]) -> Op:
    entries = store.entries
    fetch = store.fetch
    now = store.clock
    bypassed = _BYPASS.get

    def load(family: str, table: str, conditions: tuple[Condition, ...]) -> Any:
        fam = families.get(family, _UNKNOWN)
        if fam is _UNKNOWN:
            fam = resolve(family)
        if fam is None or bypassed():
            return inner(family, table, conditions)
        key = (table, conditions)
        entry = entries.get(key)
        if entry is not None and entry.expires > now():
            entry.used = True
            fam.hits += 1
            row = entry.value
            if row is None:
                fam.negative_hits += 1
                return None
            return row.copy()
        return fetch(fam, family, table, conditions, key, inner=inner)

    return load


def _load_multi(inner: Op, store: Store, families: Families, resolve: Callable[..., Any]) -> Op:
    entries = store.entries
    fetch = store.fetch
    now = store.clock
    bypassed = _BYPASS.get

    def load_multi(family: str, table: str, conditions: tuple[Condition, ...]) -> Any:
        fam = families.get(family, _UNKNOWN)
        if fam is _UNKNOWN:
            fam = resolve(family)
        if fam is None or not fam.policy.multi or bypassed():
            return inner(family, table, conditions)
        key = (table, conditions, True)
        entry = entries.get(key)
        if entry is not None and entry.expires > now():
            entry.used = True
            fam.hits += 1
            rows = entry.value
            if not rows:
                fam.negative_hits += 1
            return [row.copy() for row in rows]
        return fetch(fam, family, table, conditions, key, inner=inner)

    return load_multi


def _update(inner: Op, written: Callable[..., None]) -> Op:
    def update(family: str, table: str, key: Condition, values: Any) -> Any:
        try:
            return inner(family, table, key, values)
        finally:
            written(table, (key,), values)

    return update


def _update2(inner: Op, written: Callable[..., None]) -> Op:
    def update2(family: str, table: str, conditions: Any, values: Any) -> Any:
        try:
            return inner(family, table, conditions, values)
        finally:
            written(table, conditions, values)

    return update2


def _store(inner: Op, written: Callable[..., None]) -> Op:
    def store(family: str, table: str, values: Any) -> Any:
        try:
            return inner(family, table, values)
        finally:
            written(table, (), values)

    return store


def _destroy(inner: Op, written: Callable[..., None]) -> Op:
    def destroy(family: str, table: str, conditions: Any) -> Any:
        try:
            return inner(family, table, conditions)
        finally:
            written(table, conditions)

    return destroy


_WRITES: Mapping[str, Callable[[Op, Callable[..., None]], Op]] = {
    "update": _update,
    "update2": _update2,
    "store": _store,
    "destroy": _destroy,
}


def _require(inner: Op, store: Store) -> Op:
    def require(family: str, table: str, columns: Any) -> Any:
        try:
            return inner(family, table, columns)
        finally:  # columns may have been created: rows read before lack them
            store.clear_table(table)

    return require


def _unload(inner: Op | None, store: Store) -> Op:
    def unload(family: str, table: str) -> bool:
        dropped = store.clear_table(table)
        if inner is None:
            return dropped
        return bool(inner(family, table)) or dropped

    return unload
