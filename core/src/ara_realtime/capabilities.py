"""The typed capability model a driver declares through ``ara_capabilities``.

Everything defaults to *unsupported* or to the contract's behaviour, so a driver that says
nothing promises nothing beyond the contract. The conformance suite checks every declaration
against what the driver really does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

__all__ = ["ALL_OPERATIONS", "Capabilities", "Operation", "TextOrder"]

Operation = Literal[
    "load", "load_multi", "update", "update2", "store", "destroy", "require", "unload", "static"
]
#: Every operation of the contract, in the order the docs list them.
ALL_OPERATIONS: tuple[Operation, ...] = (
    "load",
    "load_multi",
    "update",
    "update2",
    "store",
    "destroy",
    "require",
    "unload",
    "static",
)

#: How ``<``/``>`` compare text: by code point (``"binary"``) or by a storage collation.
TextOrder = Literal["binary", "collation"]


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
    #: Free-text reasons for each deviation, keyed by field name, shown in reports.
    notes: Mapping[str, str] = field(default_factory=dict)

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
        return not self.operations & {"update", "update2", "store", "destroy"}

    def without(self, ops: Iterable[Operation]) -> Capabilities:
        """A copy with ``ops`` removed from :attr:`operations`."""
        return replace(self, operations=self.operations - frozenset(ops))

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
