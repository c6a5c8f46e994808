"""Area ``capabilities``: declared capabilities match what the driver does."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ara_realtime import Capabilities, NotSupported, QueryError
from ara_realtime.capabilities import ALL_OPERATIONS
from ara_realtime.datatypes import RQ, Requirement

from .._areas import conformance, register_standard
from .._base import ConformanceBase
from .._tables import PEERS, TableSpec
from .._target import Session, Target
from ._common import FAM, row_names, static_session

__all__ = ["CapabilityTests"]


def _try_operation(target: Target, op: str) -> Callable[[], object]:
    """A minimal call of ``op`` that must succeed on a driver declaring it."""

    def run() -> object:
        if op == "load_static":
            with static_session(target) as s:
                return s.rt.load_config("nothing.conf")
        with target.open({FAM: PEERS}) as s:
            rt = s.rt
            calls: dict[str, Callable[[], object]] = {
                "load": lambda: rt.load(FAM, name="x"),
                "load_multi": lambda: rt.load_multi(FAM, name="x"),
                "update": lambda: rt.update(FAM, "name", "x", {"host": "h"}),
                "update2": lambda: rt.update2(FAM, {"name": "x"}, {"host": "h"}),
                "store": lambda: rt.store(FAM, {"name": "x"}),
                "destroy": lambda: rt.destroy(FAM, "name", "x"),
                "require": lambda: rt.require(FAM, {"name": ("char", 40)}),
                "unload": lambda: rt.unload(FAM),
            }
            return calls[op]()

    return run


@register_standard
class CapabilityTests(ConformanceBase):
    """Declared capabilities match what the driver does."""

    @conformance("capabilities")
    def test_capabilities_are_declared_as_data(self, ara_target: Target) -> None:
        """``ara_capabilities`` returns an ``ara_realtime.Capabilities``."""
        caps = ara_target.capabilities
        assert isinstance(caps, Capabilities)
        assert caps.operations <= frozenset(ALL_OPERATIONS)
        assert caps.text_order in ("binary", "collation")
        assert caps.max_value_length is None or caps.max_value_length > 0
        for key in caps.notes:
            assert key in caps.to_dict(), f"notes names {key!r}, which is not a capability"

    @conformance("capabilities")
    @pytest.mark.parametrize("op", ALL_OPERATIONS)
    def test_operation_declarations_hold(self, ara_target: Target, op: str) -> None:
        """A declared operation works; an undeclared one raises ``NotSupported``.

        (``unload`` only drops caches, so ``Realtime.unload`` returns False instead.)

        Usually broken by: declaring an operation whose hook is missing or misspelled.
        """
        caps = ara_target.capabilities
        if op == "load_static" and "store" not in caps.operations:
            pytest.skip("not run: static needs store to set up its table")
        call = _try_operation(ara_target, op)
        if op in caps.operations:
            try:
                call()
            except NotSupported as exc:
                raise AssertionError(f"{op} is declared but raised NotSupported: {exc}") from exc
        elif op == "unload":
            assert call() is False, "unload of a driver without unload must report nothing dropped"
        else:
            with pytest.raises(NotSupported):
                call()

    @conformance("capabilities", ops=("store", "load", "load_multi"))
    def test_case_sensitivity_declaration_holds(self, ara_target: Target, ara: Session) -> None:
        """``=`` and LIKE ignore ASCII case if and only if ``case_insensitive`` is declared."""
        ara.rt.store(FAM, {"name": "Alice"})
        folded = ara.rt.load(FAM, name="alice")
        like = row_names(ara.rt.load_multi(FAM, ("name LIKE", "AL%")))
        if ara_target.capabilities.case_insensitive:
            assert folded == {"name": "Alice"}, "case_insensitive declared, but = is exact"
            assert like == ["Alice"], "case_insensitive declared, but LIKE is exact"
        else:
            assert folded is None, "= ignores case, but case_insensitive is not declared"
            assert like == [], "LIKE ignores case, but case_insensitive is not declared"
        assert ara.rt.load(FAM, name="Alice ") is None, "a trailing space was ignored"

    @conformance("capabilities", ops=("store", "load"))
    def test_max_value_length_declaration_holds(self, ara_target: Target, ara: Session) -> None:
        """Values up to ``max_value_length`` (or the column size, if none) round-trip."""
        limit = ara_target.capabilities.max_value_length
        size = PEERS.size("secret") if limit is None else min(limit, PEERS.size("secret"))
        value = ("x;^'é" * size)[:size]
        ara.rt.store(FAM, {"name": "m", "secret": value})
        assert ara.rt.load(FAM, name="m") == {"name": "m", "secret": value}, (
            f"a {size}-character value did not round-trip"
        )

    @conformance(
        "capabilities",
        ops=("store", "load", "update", "update2"),
        when=lambda caps: caps.max_value_length is not None,
        label="max_value_length",
    )
    def test_max_value_length_is_a_limit(self, ara_target: Target) -> None:
        """A declared ``max_value_length`` is a limit: one character more is a ``QueryError``
        for ``store``, ``update`` and ``update2``, and nothing is stored or changed (in a
        column sized well above the limit, so the column is not what refuses it).

        Usually broken by: a declared limit the driver does not enforce (values cut to size,
        or kept whole when the storage has room after all).
        """
        limit = ara_target.capabilities.max_value_length
        assert limit is not None
        spec = TableSpec(
            "limits",
            {"name": Requirement(RQ.CHAR, 40), "value": Requirement(RQ.CHAR, limit + 20)},
        )
        fits, over = ("é;" * limit)[:limit], ("é;" * limit)[:limit] + "x"
        with ara_target.open({"limits": spec}) as s:
            rt = s.rt
            assert rt.store("limits", {"name": "a", "value": fits}) == 1
            assert rt.load("limits", name="a") == {"name": "a", "value": fits}
            with pytest.raises(QueryError):
                rt.store("limits", {"name": "b", "value": over})
            assert rt.load("limits", name="b") is None, "a refused store left a row"
            with pytest.raises(QueryError):
                rt.update("limits", "name", "a", {"value": over})
            with pytest.raises(QueryError):
                rt.update2("limits", {"name": "a"}, {"value": over})
            assert rt.load("limits", name="a") == {"name": "a", "value": fits}, (
                f"a value of {limit + 1} characters changed the row (declared limit {limit})"
            )

    @conformance("capabilities")
    def test_capabilities_are_given_without_a_connection(self, ara_target: Target) -> None:
        """``ara_capabilities`` answers with ``connection=None`` (how ``realtime drivers``
        lists a driver before anything is connected), with a ``Capabilities``.

        Usually broken by: reading settings from the connection without checking for None.
        """
        hooks = ara_target.plugins.hooks(ara_target.driver)
        if hooks.capabilities is None:
            return  # no hook: the core lists the driver as supporting nothing
        caps = hooks.capabilities(None)
        assert isinstance(caps, Capabilities), (
            f"ara_capabilities(connection=None) returned {type(caps).__name__}"
        )

    @conformance("capabilities", ops=("store",), backdoor="read")
    def test_codec_declaration_matches_storage(self, ara_target: Target, ara: Session) -> None:
        """Storage holds ``^3B`` if and only if the driver declares ``codec``."""
        column = "@body"
        ara.rt.store(FAM, {"name": "n", column: "a;b^c"})
        (raw,) = ara.raw(FAM)
        stored = raw[column]
        if ara_target.capabilities.codec:
            assert str(stored).lower() == "a^3bb^5ec", f"codec declared, but stored {stored!r}"
        else:
            assert stored == "a;b^c", f"codec not declared, but storage holds {stored!r}"

    @conformance("capabilities", ops=("require",))
    def test_require_declaration_holds(self, ara: Session, ara_target: Target) -> None:
        """``require`` of a missing column: created with ``require_create``, else False."""
        result = ara.rt.require(FAM, {"useragent": ("char", 255)})
        if ara_target.capabilities.require_create:
            assert result is True, "require_create is declared but require returned False"
        else:
            assert result is False, "require returned True for a column the table lacks"
