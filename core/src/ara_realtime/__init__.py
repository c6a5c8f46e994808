"""ara-realtime: the Asterisk Realtime Architecture in Python.

One realtime API (:class:`Realtime`) maps families onto interchangeable storage drivers found
through the ``ara_realtime.drivers`` entry-point group; the driver contract is the pluggy hook
spec in :mod:`ara_realtime.hookspecs`.
"""

from __future__ import annotations

from . import patterns
from .capabilities import Capabilities
from .conditions import Condition
from .conf import Category, Config, Variable
from .datatypes import RQ, Requirement, Row, StaticRow
from .driver import Connection, ConnectionDriver
from .errors import BackendError, ConfigError, NotSupported, QueryError, RealtimeError
from .extconfig import Mapping
from .hookspecs import hookimpl
from .realtime import Realtime

__all__ = [
    "RQ",
    "BackendError",
    "Capabilities",
    "Category",
    "Condition",
    "Config",
    "ConfigError",
    "Connection",
    "ConnectionDriver",
    "Mapping",
    "NotSupported",
    "QueryError",
    "Realtime",
    "RealtimeError",
    "Requirement",
    "Row",
    "StaticRow",
    "Variable",
    "__version__",
    "hookimpl",
    "patterns",
]


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415

        return version("ara-realtime")
    raise AttributeError(f"module 'ara_realtime' has no attribute {name!r}")
