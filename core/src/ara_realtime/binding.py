"""What a plugin's ``ara_bind`` receives: one backend's operations, before the core calls them.

The core binds a backend's operations once (when its connection opens, and again whenever a
plugin is added or removed) and then calls the bound callables directly on every call. A
plugin implementing ``ara_bind`` may replace any of them with a wrapper of its own: the
wrapper is plain Python on every call, with no hook dispatch, which is what lets a cache answer
in a microsecond.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .capabilities import ALL_OPERATIONS, Capabilities
from .changes import ChangeFeed
from .errors import ConfigError

if TYPE_CHECKING:
    from .realtime import Realtime

__all__ = ["Binding"]


class Binding:
    """One backend (driver, database) of one :class:`~ara_realtime.Realtime`, being bound.

    :attr:`ops` maps each operation the backend supports to the callable the core will call:
    ``(family, table, *args)`` with the hook's remaining arguments in spec order
    (``load_static``: ``(table, filename)``). Replace an entry to wrap it; adding an operation
    the backend lacks makes the core call it instead of raising ``NotSupported``.
    """

    __slots__ = (
        "_change_feed",
        "capabilities",
        "connection",
        "database",
        "driver",
        "label",
        "ops",
        "realtime",
        "tables",
    )

    def __init__(
        self,
        realtime: Realtime,
        driver: str,
        database: str,
        connection: Any,
        *,
        capabilities: Capabilities,
        tables: Mapping[str, str],
        ops: dict[str, Callable[..., Any]],
        change_feed: Callable[[Any], ChangeFeed | None] | None,
    ) -> None:
        #: The ``Realtime`` the backend belongs to.
        self.realtime = realtime
        self.driver = driver
        self.database = database
        #: ``driver:database``, as logs and ``realtime status`` name the backend.
        self.label = f"{driver}:{database}"
        #: The object the driver's ``ara_connect`` returned.
        self.connection = connection
        self.capabilities = capabilities
        #: Family (lower case) -> table, for every mapping this backend serves.
        self.tables = tables
        #: Operation -> callable, as the core will call them (see the class docstring).
        self.ops = ops
        self._change_feed = change_feed

    def __repr__(self) -> str:  # the connection may hold secrets: never shown
        return f"<Binding {self.label}>"

    def change_feed(self) -> ChangeFeed | None:
        """The driver's change feed for this connection (``ara_change_feed``), or ``None``."""
        if self._change_feed is None:
            return None
        feed = self._change_feed(self.connection)
        if feed is not None and not isinstance(feed, ChangeFeed):
            raise ConfigError(
                f"driver {self.driver!r}: ara_change_feed returned {type(feed).__name__}, "
                "not an ara_realtime.changes.ChangeFeed"
            )
        return feed

    def checked_ops(self) -> dict[str, Callable[..., Any]]:
        """:attr:`ops` after the plugins ran, refused if one left something unusable."""
        for op, fn in self.ops.items():
            if op not in ALL_OPERATIONS or not callable(fn):
                raise ConfigError(
                    f"a plugin's ara_bind left {op!r} -> {type(fn).__name__} in the "
                    f"operations of {self.label}: keys are operations "
                    f"({', '.join(ALL_OPERATIONS)}), values callables"
                )
        return self.ops
