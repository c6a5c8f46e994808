"""``ConnectionDriver``: write a driver as one connection class instead of twelve hooks.

Most drivers keep their state in the object ``ara_connect`` returns, so every hook would only
forward to it. ``ConnectionDriver`` is a ready-made plugin whose hooks call the connection's
methods of the same name (``ara_load`` -> ``connection.load(family, table, conditions)``)::

    class MyConnection:
        def __init__(self, database, settings, config_dir): ...
        def load(self, family, table, conditions): ...
        def store(self, family, table, values): ...

    driver = ConnectionDriver(MyConnection)  # entry point: "mydb = my_pkg:driver"

The operations a driver supports are the methods its connection class defines, unless
``capabilities`` says otherwise; ``update2`` alone also serves ``update`` (one condition).
A subclass may override any hook (e.g. a faster ``ara_load``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .capabilities import ALL_OPERATIONS, Capabilities, Operation
from .conditions import Condition
from .datatypes import Requirement, Row, StaticTuple
from .hookspecs import hookimpl

__all__ = ["METHODS", "ConnectionDriver"]

#: Connection method per operation.
METHODS: dict[Operation, str] = {
    "load": "load",
    "load_multi": "load_multi",
    "update": "update",
    "update2": "update2",
    "store": "store",
    "destroy": "destroy",
    "require": "require",
    "unload": "unload",
    "static": "load_static",
}


class ConnectionDriver:
    """A driver plugin forwarding every hook to the connection object's methods."""

    def __init__(
        self,
        connect: Callable[[str, Mapping[str, str], Path | None], Any],
        capabilities: Capabilities | None = None,
    ) -> None:
        self._connect = connect
        if capabilities is None:
            capabilities = Capabilities()
        if not capabilities.operations and isinstance(connect, type):
            ops = frozenset(op for op in ALL_OPERATIONS if hasattr(connect, METHODS[op]))
            if "update2" in ops:
                ops |= {"update"}
            capabilities = replace(capabilities, operations=ops)
        self.capabilities = capabilities

    def __repr__(self) -> str:
        name = getattr(self._connect, "__qualname__", repr(self._connect))
        return f"<{type(self).__name__} {name}>"

    @hookimpl
    def ara_capabilities(self, connection: Any | None) -> Capabilities:
        own = getattr(connection, "capabilities", None)
        return own if isinstance(own, Capabilities) else self.capabilities

    @hookimpl
    def ara_connect(
        self, database: str, settings: Mapping[str, str], config_dir: Path | None
    ) -> Any:
        return self._connect(database, settings, config_dir)

    @hookimpl
    def ara_close(self, connection: Any) -> None:
        close = getattr(connection, "close", None)
        if close is not None:
            close()

    @hookimpl
    def ara_load(
        self, connection: Any, family: str, table: str, conditions: tuple[Condition, ...]
    ) -> Row | None:
        result: Row | None = connection.load(family, table, conditions)
        return result

    @hookimpl
    def ara_load_multi(
        self, connection: Any, family: str, table: str, conditions: tuple[Condition, ...]
    ) -> list[Row]:
        result: list[Row] = connection.load_multi(family, table, conditions)
        return result

    @hookimpl
    def ara_update(
        self,
        connection: Any,
        family: str,
        table: str,
        key: Condition,
        values: tuple[tuple[str, str], ...],
    ) -> int:
        update = getattr(connection, "update", None)
        if update is None:  # the single-key form is update2 with one condition
            return int(connection.update2(family, table, (key,), values))
        return int(update(family, table, key, values))

    @hookimpl
    def ara_update2(
        self,
        connection: Any,
        family: str,
        table: str,
        conditions: tuple[Condition, ...],
        values: tuple[tuple[str, str], ...],
    ) -> int:
        return int(connection.update2(family, table, conditions, values))

    @hookimpl
    def ara_store(
        self, connection: Any, family: str, table: str, values: tuple[tuple[str, str], ...]
    ) -> int:
        return int(connection.store(family, table, values))

    @hookimpl
    def ara_destroy(
        self, connection: Any, family: str, table: str, conditions: tuple[Condition, ...]
    ) -> int:
        return int(connection.destroy(family, table, conditions))

    @hookimpl
    def ara_require(
        self, connection: Any, family: str, table: str, columns: Mapping[str, Requirement]
    ) -> bool:
        return bool(connection.require(family, table, columns))

    @hookimpl
    def ara_unload(self, connection: Any, family: str, table: str) -> bool:
        unload = getattr(connection, "unload", None)
        return bool(unload(family, table)) if unload is not None else False

    @hookimpl
    def ara_load_static(self, connection: Any, table: str, filename: str) -> Iterable[StaticTuple]:
        rows: Iterable[StaticTuple] = connection.load_static(table, filename)
        return rows
