"""Writing a driver as one connection class: :class:`Connection` and :class:`ConnectionDriver`.

Most drivers keep their state in the object ``ara_connect`` returns, so every hook would only
forward to it. A driver subclasses :class:`Connection`, overrides the operations its storage
supports (each method is typed exactly as the contract says), and registers
``ConnectionDriver(TheConnection)`` as its plugin::

    class MyConnection(Connection):
        CAPABILITIES = Capabilities(notes={...})   # optional: deviations, declared once

        def __init__(self, database, settings, config_dir): ...
        def load(self, family, table, conditions): ...
        def store(self, family, table, values): ...

    driver = ConnectionDriver(MyConnection)  # entry point: "mydb = my_pkg:driver"

The operations a driver supports are the methods its class overrides (``update2`` alone also
serves ``update``, with one condition); an instance may narrow that or declare deviations per
connection through :attr:`Connection.capabilities`. A class that does not subclass
:class:`Connection` works too (its operations are the methods it has). A ``ConnectionDriver``
subclass may override any hook.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from .capabilities import ALL_OPERATIONS, Capabilities, Operation
from .changes import ChangeFeed
from .conditions import Condition
from .datatypes import Requirement, Row, StaticTuple
from .errors import NotSupported
from .hookspecs import hookimpl

__all__ = ["Connection", "ConnectionDriver", "supported_operations"]


class Connection:
    """The connection contract: one method per operation, as the hooks describe them.

    Every operation raises :class:`~ara_realtime.errors.NotSupported` until a subclass
    overrides it; see :mod:`ara_realtime.hookspecs` for the rules each one follows.
    """

    #: What the driver declares for every connection of this class (operations are derived
    #: from the overridden methods when left empty).
    CAPABILITIES: ClassVar[Capabilities] = Capabilities()

    @property
    def capabilities(self) -> Capabilities:
        """What this connection can do; override to answer from its settings."""
        return declared_capabilities(type(self))

    def load(self, family: str, table: str, conditions: tuple[Condition, ...]) -> Row | None:
        """One row matching every condition, or ``None`` (``ara_load``)."""
        raise NotSupported(f"{type(self).__name__} does not support load")

    def load_multi(self, family: str, table: str, conditions: tuple[Condition, ...]) -> list[Row]:
        """Every matching row, ordered by the first condition's column (``ara_load_multi``)."""
        raise NotSupported(f"{type(self).__name__} does not support load_multi")

    def update(
        self, family: str, table: str, key: Condition, values: tuple[tuple[str, str], ...]
    ) -> int:
        """Set ``values`` where ``key`` matches; rows matched (``ara_update``).

        The default is :meth:`update2` with one condition.
        """
        return self.update2(family, table, (key,), values)

    def update2(
        self,
        family: str,
        table: str,
        conditions: tuple[Condition, ...],
        values: tuple[tuple[str, str], ...],
    ) -> int:
        """Set ``values`` where every condition matches; rows matched (``ara_update2``)."""
        raise NotSupported(f"{type(self).__name__} does not support update2")

    def store(self, family: str, table: str, values: tuple[tuple[str, str], ...]) -> int:
        """Insert one row; rows inserted (``ara_store``)."""
        raise NotSupported(f"{type(self).__name__} does not support store")

    def destroy(self, family: str, table: str, conditions: tuple[Condition, ...]) -> int:
        """Delete the rows matching every condition; rows deleted (``ara_destroy``)."""
        raise NotSupported(f"{type(self).__name__} does not support destroy")

    def require(self, family: str, table: str, columns: Mapping[str, Requirement]) -> bool:
        """Check (create, in a create mode) columns; ``True`` if all are met (``ara_require``)."""
        raise NotSupported(f"{type(self).__name__} does not support require")

    def unload(self, family: str, table: str) -> bool:
        """Drop cached metadata and rows of ``table`` (``ara_unload``)."""
        return False

    def load_static(self, table: str, filename: str) -> Iterable[StaticTuple]:
        """The active static-configuration rows of ``filename`` (``ara_load_static``)."""
        raise NotSupported(f"{type(self).__name__} does not support load_static")

    def close(self) -> None:
        """Release what the connection holds (``ara_close``)."""

    def status(self) -> Mapping[str, Any]:
        """What the storage says about itself (``ara_status``): server, pools, detail."""
        return {}

    def change_feed(self) -> ChangeFeed | None:
        """How the storage reports changes (``ara_change_feed``); ``None``: it cannot."""
        return None


def supported_operations(cls: type) -> frozenset[Operation]:
    """The operations a connection class implements.

    For a :class:`Connection` subclass, the methods it overrides (``update`` comes with
    ``update2``; ``unload`` always works); for any other class, the methods it has.
    """
    own_load_static = getattr(cls, "load_static", None) not in (None, Connection.load_static)
    if callable(getattr(cls, "static", None)) and not own_load_static:
        # ara-realtime 0.1.0's operation name; the method was always load_static
        warnings.warn(
            f"{cls.__qualname__}.static() is not an operation: the method is load_static()",
            DeprecationWarning,
            stacklevel=3,
        )
    if issubclass(cls, Connection):
        ops = {op for op in ALL_OPERATIONS if getattr(cls, op) is not getattr(Connection, op)}
        if "update2" in ops:
            ops.add("update")
        ops.add("unload")
    else:
        ops = {op for op in ALL_OPERATIONS if callable(getattr(cls, op, None))}
        if "update2" in ops:
            ops.add("update")
    return frozenset(ops)


def declared_capabilities(cls: type) -> Capabilities:
    """``cls.CAPABILITIES``, with the operations its methods implement when it lists none."""
    declared: Capabilities = getattr(cls, "CAPABILITIES", None) or Capabilities()
    if declared.operations:
        return declared
    return replace(declared, operations=supported_operations(cls))


C = TypeVar("C", bound=Connection)

#: The ``ara_connect`` callable: ``(database, settings, config_dir) -> connection``.
Connect = Callable[[str, Mapping[str, str], Path | None], C]


class ConnectionDriver(Generic[C]):
    """A driver plugin whose hooks call the connection object's method of the same name.

    :param connect: the connection class, or any callable ``(database, settings,
        config_dir) -> connection``.
    :param capabilities: what the driver declares when asked without a connection
        (``realtime drivers``); by default the connection class's :attr:`~Connection.CAPABILITIES`
        with the operations its methods implement.
    """

    #: Hooks that only forward to the connection method of the same operation: the core may
    #: call that method directly (one frame less on every call) when nothing wraps the hook.
    #: ``update`` too: a connection without an ``update`` method (a duck-typed class with
    #: ``update2`` only) is found out at bind time and keeps the hook.
    FORWARDING: ClassVar[frozenset[str]] = frozenset(ALL_OPERATIONS)

    def __init__(self, connect: Connect[C], capabilities: Capabilities | None = None) -> None:
        self._connect = connect
        if capabilities is None:
            capabilities = (
                declared_capabilities(connect) if isinstance(connect, type) else Capabilities()
            )
        self.capabilities = capabilities

    def __repr__(self) -> str:
        name = getattr(self._connect, "__qualname__", repr(self._connect))
        return f"<{type(self).__name__} {name}>"

    def forwards(self, operation: str) -> bool:
        """True if this driver's hook for ``operation`` only calls the connection's method."""
        if operation not in self.FORWARDING:
            return False
        name = "ara_" + operation
        return getattr(type(self), name) is getattr(ConnectionDriver, name)

    @hookimpl
    def ara_capabilities(self, connection: C | None) -> Capabilities:
        own = getattr(connection, "capabilities", None)
        return own if isinstance(own, Capabilities) else self.capabilities

    @hookimpl
    def ara_connect(self, database: str, settings: Mapping[str, str], config_dir: Path | None) -> C:
        return self._connect(database, settings, config_dir)

    @hookimpl
    def ara_close(self, connection: C) -> None:
        close = getattr(connection, "close", None)
        if close is not None:
            close()

    @hookimpl
    def ara_status(self, connection: C) -> Mapping[str, Any]:
        status = getattr(connection, "status", None)
        return status() if status is not None else {}

    @hookimpl
    def ara_change_feed(self, connection: C) -> ChangeFeed | None:
        feed = getattr(connection, "change_feed", None)
        return feed() if feed is not None else None

    @hookimpl
    def ara_load(
        self, connection: C, family: str, table: str, conditions: tuple[Condition, ...]
    ) -> Row | None:
        result: Row | None = connection.load(family, table, conditions)
        return result

    @hookimpl
    def ara_load_multi(
        self, connection: C, family: str, table: str, conditions: tuple[Condition, ...]
    ) -> list[Row]:
        result: list[Row] = connection.load_multi(family, table, conditions)
        return result

    @hookimpl
    def ara_update(
        self,
        connection: C,
        family: str,
        table: str,
        key: Condition,
        values: tuple[tuple[str, str], ...],
    ) -> int:
        update = getattr(connection, "update", None)
        if update is None:  # a duck-typed class with update2 only
            return int(connection.update2(family, table, (key,), values))
        return int(update(family, table, key, values))

    @hookimpl
    def ara_update2(
        self,
        connection: C,
        family: str,
        table: str,
        conditions: tuple[Condition, ...],
        values: tuple[tuple[str, str], ...],
    ) -> int:
        return int(connection.update2(family, table, conditions, values))

    @hookimpl
    def ara_store(
        self, connection: C, family: str, table: str, values: tuple[tuple[str, str], ...]
    ) -> int:
        return int(connection.store(family, table, values))

    @hookimpl
    def ara_destroy(
        self, connection: C, family: str, table: str, conditions: tuple[Condition, ...]
    ) -> int:
        return int(connection.destroy(family, table, conditions))

    @hookimpl
    def ara_require(
        self, connection: C, family: str, table: str, columns: Mapping[str, Requirement]
    ) -> bool:
        return bool(connection.require(family, table, columns))

    @hookimpl
    def ara_unload(self, connection: C, family: str, table: str) -> bool:
        unload = getattr(connection, "unload", None)
        return bool(unload(family, table)) if unload is not None else False

    @hookimpl
    def ara_load_static(self, connection: C, table: str, filename: str) -> Iterable[StaticTuple]:
        rows: Iterable[StaticTuple] = connection.load_static(table, filename)
        return rows
