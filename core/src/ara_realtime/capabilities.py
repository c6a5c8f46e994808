"""The typed capability model a driver declares through ``ara_capabilities``.

Everything defaults to *unsupported* or to the contract's behaviour, so a driver that says
nothing promises nothing beyond the contract. The conformance suite checks every declaration
against what the driver really does.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, cast, get_args

from .changes import ChangeFeedKind

__all__ = [
    "ALL_OPERATIONS",
    "WRITE_OPERATIONS",
    "Capabilities",
    "Operation",
    "TextOrder",
    "Uint64Order",
    "hook_name",
]

#: The operations of the contract, one name each: the name ``Capabilities.operations`` uses,
#: the method of a :class:`~ara_realtime.driver.Connection`, and (with ``ara_`` in front) the
#: hook of :mod:`ara_realtime.hookspecs`. Everything that lists operations derives from it.
Operation = Literal[
    "load",
    "load_multi",
    "update",
    "update2",
    "store",
    "destroy",
    "require",
    "unload",
    "load_static",
]
#: Every operation of the contract, in the order the docs list them.
ALL_OPERATIONS: tuple[Operation, ...] = cast("tuple[Operation, ...]", get_args(Operation))
#: The operations that change stored rows.
WRITE_OPERATIONS: frozenset[Operation] = frozenset({"update", "update2", "store", "destroy"})

#: How ``<``/``>`` compare text: by code point (``"binary"``) or by a storage collation.
TextOrder = Literal["binary", "collation"]
#: How ``uinteger8`` columns (0 to 2**64 - 1) compare and sort: as numbers, or as their text
#: where the storage's integers are signed 64-bit and such columns are text (SQLite).
Uint64Order = Literal["numeric", "text"]

#: The operation names of ara-realtime 0.1.0 that have another name now.
_RENAMED: dict[str, Operation] = {"static": "load_static"}


def hook_name(operation: str) -> str:
    """The hook that implements ``operation`` (``"load"`` -> ``"ara_load"``)."""
    return "ara_" + operation


@dataclass(frozen=True)
class Capabilities:
    """What a driver can do, and where it knowingly deviates from the contract."""

    #: Operations the driver implements; anything else raises ``NotSupported``.
    operations: frozenset[Operation] = frozenset()
    #: Equality and LIKE ignore letter case (the contract says exact).
    case_insensitive: bool = False
    #: Order used by ``<``, ``<=``, ``>``, ``>=`` on text columns.
    text_order: TextOrder = "binary"
    #: Values are stored in Asterisk's ``^XX`` form (``;`` -> ``^3B``, ``^`` -> ``^5E``).
    codec: bool = False
    #: ``require`` creates missing tables and columns in the ``create*`` modes.
    require_create: bool = False
    #: Longest value (characters) a text column can hold, if the driver has a fixed limit.
    max_value_length: int | None = None
    #: How ``uinteger8`` columns compare and sort (the contract says numerically).
    uint64_order: Uint64Order = "numeric"
    #: How ``ara_change_feed`` reports rows changed by anyone: pushed by the storage
    #: (``"notify"``), found by asking it at an interval (``"poll"``), or not at all.
    change_feed: ChangeFeedKind = "none"
    #: Free-text reasons for each deviation, keyed by field name, shown in reports.
    notes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ops: frozenset[str] = frozenset(self.operations)
        old = ops & set(_RENAMED)
        if old:
            warnings.warn(
                f"operation name(s) {', '.join(sorted(old))} are deprecated: use "
                f"{', '.join(_RENAMED[o] for o in sorted(old))}",
                DeprecationWarning,
                stacklevel=3,
            )
            ops = (ops - old) | {_RENAMED[o] for o in old}
        unknown = ops - set(ALL_OPERATIONS)
        if unknown:
            raise ValueError(
                f"unknown operation(s) {', '.join(sorted(map(str, unknown)))}; "
                f"the contract's are {', '.join(ALL_OPERATIONS)}"
            )
        object.__setattr__(self, "operations", ops)

    @classmethod
    def full(cls, **changes: Any) -> Capabilities:
        """Every operation supported; other fields as given."""
        return cls(operations=frozenset(ALL_OPERATIONS), **changes)

    def supports(self, operation: str) -> bool:
        """True if ``operation`` is implemented."""
        return operation in self.operations

    @property
    def read_only(self) -> bool:
        """True if no write operation is supported."""
        return not self.operations & WRITE_OPERATIONS

    def without(self, ops: Iterable[Operation]) -> Capabilities:
        """A copy with ``ops`` removed from :attr:`operations`."""
        return replace(self, operations=self.operations - frozenset(ops))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Capabilities:
        """The inverse of :meth:`to_dict` (a report's declaration, read back)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["operations"] = frozenset(values.get("operations", ()))
        values["notes"] = dict(values.get("notes") or {})
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "operations":
                value = [op for op in ALL_OPERATIONS if op in value]
            elif f.name == "notes":
                value = dict(value)
            out[f.name] = value
        return out
