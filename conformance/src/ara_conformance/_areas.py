"""Capability areas and the decorator that gates every standard test on what it needs.

Every standard test carries exactly one :class:`Needs` (set by :func:`conformance`): the area
it reports under, the operations it calls, an optional predicate on the declared
:class:`~ara_realtime.capabilities.Capabilities`, and whether it needs the target's back door.
A test whose needs are not declared by the driver is *unsupported* (skipped, never passed);
the self-tests check that no standard test lacks the decorator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from ara_realtime.capabilities import ALL_OPERATIONS, Capabilities, Operation

__all__ = [
    "AREAS",
    "AREA_TITLES",
    "STANDARD",
    "STANDARD_CLASSES",
    "STATUSES",
    "Needs",
    "Standard",
    "conformance",
    "needs_of",
    "register_standard",
]

#: Capability areas in report order, with a one-line description each.
AREA_TITLES: dict[str, str] = {
    "values": "values round-trip exactly; NULL and empty are one",
    "conditions": "every operator on text and integer columns",
    "like": "LIKE / NOT LIKE with % _ and backslash escapes",
    "ordering": "load_multi order; < <= > >= on text and numbers",
    "writes": "store, update, update2, destroy and their counts",
    "errors": "unknown columns and operators, NUL, caller mistakes",
    "require": "require, unload and Asterisk column names",
    "static": "static configuration rows -> Config, #include",
    "codec": "Asterisk's ^XX on-disk value codec",
    "failover": "backend down, priorities, recovery",
    "concurrency": "threads on disjoint and shared keys",
    "capabilities": "declared capabilities match behaviour",
    "changes": "the change feed reports every change by anyone",
    "stateful": "random operation sequences against the model",
}
AREAS: tuple[str, ...] = tuple(AREA_TITLES)

#: Result categories of one test, in report order.
STATUSES: tuple[str, ...] = ("passed", "failed", "xfailed", "unsupported", "not_run")

_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Needs:
    """What one standard test needs from the target."""

    area: str
    #: Operations the test calls (``Capabilities.operations`` must hold all of them).
    operations: frozenset[Operation] = frozenset()
    #: An extra condition on the declaration, and how the report names it.
    when: Callable[[Capabilities], bool] | None = None
    when_label: str = ""
    #: The test reads (``"read"``) or also writes (``"write"``) storage behind the driver.
    backdoor: str | None = None

    def missing(self, caps: Capabilities) -> str | None:
        """Why ``caps`` does not support this test, or ``None`` if it does."""
        absent = [
            op for op in ALL_OPERATIONS if op in self.operations and op not in caps.operations
        ]
        if absent:
            return f"the driver does not declare {', '.join(absent)}"
        if self.when is not None and not self.when(caps):
            return f"the driver does not declare {self.when_label}"
        return None


def conformance(
    area: str,
    *,
    ops: Iterable[Operation] = (),
    when: Callable[[Capabilities], bool] | None = None,
    label: str = "",
    backdoor: str | None = None,
) -> Callable[[_F], _F]:
    """Mark a standard test: its area, the operations and capabilities it needs.

    ``when``/``label`` add a condition on the declared capabilities (``label`` names it in the
    skip reason, e.g. ``"codec=True"``); ``backdoor`` is ``"read"`` or ``"write"`` when the
    test inspects storage without the driver.
    """
    if area not in AREA_TITLES:
        raise ValueError(f"unknown conformance area {area!r}; known: {', '.join(AREAS)}")
    operations = frozenset(ops)
    unknown = operations - set(ALL_OPERATIONS)
    if unknown:
        raise ValueError(f"unknown operations {sorted(unknown)}")
    if when is not None and not label:
        raise ValueError("a capability condition needs a label for the report")
    if backdoor not in (None, "read", "write"):
        raise ValueError("backdoor must be None, 'read' or 'write'")
    needs = Needs(area, operations, when, label, backdoor)

    def mark(func: _F) -> _F:
        func.__ara_needs__ = needs  # type: ignore[attr-defined]
        return func

    return mark


def needs_of(func: object) -> Needs | None:
    """The :class:`Needs` of a standard test function, if it has one."""
    needs = getattr(func, "__ara_needs__", None)
    return needs if isinstance(needs, Needs) else None


@dataclass(frozen=True)
class Standard:
    """One standard test: its name (unique across the suite), area and defining class."""

    name: str
    needs: Needs
    owner: type
    function: Callable[..., Any]


#: Every standard test by name, filled by :func:`register_standard` as the suite is imported.
STANDARD: dict[str, Standard] = {}
#: The classes that define standard tests (the area base classes).
STANDARD_CLASSES: list[type] = []


def register_standard(cls: type) -> type:
    """Class decorator of an area base class: record its ``test_*`` functions as standard.

    Raises if a test lacks :func:`conformance` or reuses another standard test's name.
    """
    for name, func in vars(cls).items():
        if not name.startswith("test_") or not callable(func):
            continue
        needs = needs_of(func)
        if needs is None:
            raise TypeError(f"{cls.__qualname__}.{name} has no @conformance(...) gate")
        other = STANDARD.get(name)
        if other is not None and other.function is not func:
            raise TypeError(f"standard test name {name!r} used twice ({other.owner.__qualname__})")
        STANDARD[name] = Standard(name, needs, cls, func)
    STANDARD_CLASSES.append(cls)
    return cls
