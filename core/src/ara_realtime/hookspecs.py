"""The driver contract: one pluggy hook per operation of Asterisk's config engine.

A driver is a plugin (usually a module) registered under its driver name, the name
``extconfig.conf`` uses (``sqlite3``, ``pgsql``, ...). It implements ``ara_connect`` and the
operation hooks it supports. A call reaches only the driver its mapping names, plus every
*wrapper* plugin (``@hookimpl(wrapper=True)``), so caching, metrics or tracing can be added to
every driver by one plugin.

Rules every operation hook shares:

* ``connection`` is the object this driver's ``ara_connect`` returned.
* ``conditions`` are validated :class:`~ara_realtime.conditions.Condition` objects (column
  checked, operator one of ``= != < <= > >= LIKE NOT LIKE``, value a ``str`` without NUL).
* Not found is a normal result (``None``, ``[]``, ``0``), never an exception.
* A failure of the storage (connection lost, timeout, server error) raises
  :class:`~ara_realtime.errors.BackendError`; only that makes the core fail over.
* A mistake in the request (unknown table or column, value too long, ...) raises
  :class:`~ara_realtime.errors.QueryError`.
* Rows are ``dict[str, str]`` in table column order, with NULL and empty columns left out.

Implementations may accept any subset of a hook's parameters (pluggy's opt-in arguments).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from .capabilities import Capabilities
from .changes import ChangeFeed
from .conditions import Condition
from .datatypes import Requirement, Row, StaticTuple

if TYPE_CHECKING:
    from .binding import Binding

__all__ = ["PROJECT", "hookimpl", "hookspec"]

#: The pluggy project name; markers of other projects are invisible to ara-realtime.
PROJECT = "ara_realtime"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def ara_capabilities(connection: Any | None) -> Capabilities:
    """Declare what the driver can do.

    :param connection: the open connection, or ``None`` when asked without one (the
        ``realtime drivers`` listing); a driver whose abilities depend on its settings
        answers for the connection when it has one.
    :return: a :class:`~ara_realtime.capabilities.Capabilities`; operations left out are
        refused with ``NotSupported`` before the driver is called.
    """


@hookspec(firstresult=True)
def ara_connect(database: str, settings: Mapping[str, str], config_dir: Path | None) -> Any:
    """Open (or prepare to open lazily) the connection or pool for one database.

    :param database: the mapping's database field (a section name for most drivers, a base
        DN for LDAP).
    :param settings: settings given in code for this database; they override the driver's
        own Asterisk file.
    :param config_dir: where ``extconfig.conf`` was read, so the driver can read its own
        ``res_*.conf`` from the same directory; ``None`` when built in code.
    :return: an object passed back as ``connection`` to every other hook.
    :raises ConfigError: a setting is missing or invalid (naming file, line and key).
    :raises BackendError: the storage cannot be reached (the core fails over).
    """


@hookspec(firstresult=True)
def ara_close(connection: Any) -> None:
    """Close the connection or pool. Called once, on ``Realtime.close`` or ``reload``."""


@hookspec(firstresult=True)
def ara_status(connection: Any) -> Mapping[str, Any]:
    """What the storage says about itself, for ``Realtime.status`` and ``realtime status``.

    Optional. Every key is optional: ``server`` (the server's name and version, as text),
    ``pools`` (pool name -> :class:`~ara_realtime.sql.pool.PoolStatus`, or any mapping with
    ``in_use``, ``idle`` and ``limit``), ``detail`` (one line: what the connection is to),
    ``sides`` (when reads and writes go to different servers: ``read``/``write`` ->
    :class:`~ara_realtime.status.SideStatus`, or a mapping with ``state`` ``up``/``down``,
    ``reached`` and ``error``; any side down makes the backend ``down``).
    Asking may talk to the storage (a version query), which is how a status check proves the
    backend answers; with sides, each side is asked.

    :raises BackendError: the storage cannot be reached.
    """


@hookspec(firstresult=True)
def ara_change_feed(connection: Any) -> ChangeFeed | None:
    """How the storage reports rows changed by anyone (other processes included).

    Optional. Return a :class:`~ara_realtime.changes.ChangeFeed` (``kind`` ``"notify"`` or
    ``"poll"``, matching ``Capabilities.change_feed``), or ``None`` when this connection's
    storage cannot report changes. Must not talk to the storage: the feed does, when used.
    See :mod:`ara_realtime.changes` for what a feed promises.
    """


@hookspec
def ara_bind(binding: Binding) -> None:
    """Wrap a backend's operations once, when the core binds them (plugins, not drivers).

    Called each time the core binds a backend's operations: when its connection has opened,
    and again after a plugin was added or removed. ``binding.ops`` maps each operation to the
    callable the core will call directly, without hook dispatch, on every call
    (``(family, table, *args)``; ``load_static``: ``(table, filename)``); an implementation
    replaces entries with its own wrappers. Every plugin's implementation runs, in pluggy's
    order (the last registered first), each seeing what the previous ones left.
    """


@hookspec(firstresult=True)
def ara_load(
    connection: Any, family: str, table: str, conditions: tuple[Condition, ...]
) -> Row | None:
    """Return one row matching every condition, or ``None``.

    Never a merge of several rows. ``conditions`` holds at least one condition.
    """


@hookspec(firstresult=True)
def ara_load_multi(
    connection: Any, family: str, table: str, conditions: tuple[Condition, ...]
) -> list[Row]:
    """Return every matching row, ordered by the first condition's column (ascending).

    ``[]`` when nothing matches. Rows whose first-condition value is equal keep the storage's
    order.
    """


@hookspec(firstresult=True)
def ara_update(
    connection: Any,
    family: str,
    table: str,
    key: Condition,
    values: tuple[tuple[str, str], ...],
) -> int:
    """Set ``values`` (``column, value`` pairs) on every row matching ``key``.

    :return: the number of rows *matched*, including rows whose values did not change.
        An empty value stores NULL where the column allows it. A failed write changes nothing.
    """


@hookspec(firstresult=True)
def ara_update2(
    connection: Any,
    family: str,
    table: str,
    conditions: tuple[Condition, ...],
    values: tuple[tuple[str, str], ...],
) -> int:
    """Set ``values`` on every row matching all ``conditions``; return rows matched."""


@hookspec(firstresult=True)
def ara_store(connection: Any, family: str, table: str, values: tuple[tuple[str, str], ...]) -> int:
    """Insert one row; return the number of rows inserted (1)."""


@hookspec(firstresult=True)
def ara_destroy(connection: Any, family: str, table: str, conditions: tuple[Condition, ...]) -> int:
    """Delete every row matching all ``conditions`` (the key first); return rows deleted."""


@hookspec(firstresult=True)
def ara_require(
    connection: Any,
    family: str,
    table: str,
    columns: Mapping[str, Requirement],
) -> bool:
    """Check ``columns`` against Asterisk's ``RQ_*`` types and sizes.

    In the ``createclose``/``createchar`` modes create the table and add missing columns.
    :return: ``True`` if every requirement is met afterwards; ``False`` (with a logged
        warning naming table and column) otherwise.
    """


@hookspec(firstresult=True)
def ara_unload(connection: Any, family: str, table: str) -> bool:
    """Drop cached metadata and rows for ``table``; ``True`` if something was cached."""


@hookspec(firstresult=True)
def ara_load_static(connection: Any, table: str, filename: str) -> Iterable[StaticTuple]:
    """Yield the active rows (``commented = 0``) of ``filename`` from a static-config table.

    Each row is a tuple ``(category, var_name, var_val, cat_metric, var_metric)`` (NULL
    texts as ``""``, NULL metrics as ``0``): a ``StaticRow`` or a plain tuple. Rows come
    ordered by ``cat_metric`` descending, ``var_metric`` ascending, then
    ``category``, then ``var_name``. A ``#include`` row has ``var_name == "#include"`` and the
    file to include in ``var_val``. No rows for the file: an empty iterable.
    """
