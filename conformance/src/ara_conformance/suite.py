"""The standard tests, one class per capability area.

Two ways to run them:

* by name: ``pytest -p ara_conformance --pyargs ara_conformance.suite --ara-driver NAME``
  (or ``from ara_conformance.suite import *`` in a test module): the ``Test*`` classes below
  use the plugin's ``ara_target`` fixture;
* by subclassing: ``class TestMyDriver(ConformanceTests)`` (or any of the ``*Tests`` area
  classes) with an ``ara_target`` fixture that yields an :class:`ara_conformance.Target`.

Every test carries ``@conformance(area, ops=..., when=...)``: what it needs from the driver.
Tests whose needs are not declared are reported as *unsupported*, never as passed. Each
test's docstring says what it checks and what usually breaks it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from typing import Any, cast

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from ara_realtime import BackendError, Capabilities, Config, NotSupported, QueryError, hookimpl
from ara_realtime.capabilities import ALL_OPERATIONS, Operation
from ara_realtime.datatypes import RQ, Requirement

from . import _profiles
from ._areas import conformance, register_standard
from ._base import ConformanceBase
from ._checks import check_load, check_load_multi
from ._machine import ConformanceMachine
from ._model import Model, StaticModelRow, static_config
from ._profiles import examples
from ._strategies import (
    HOSTILE,
    OPERATORS,
    condition,
    integer_values,
    like_patterns,
    rows,
    static_configs,
    static_rows,
    text_values,
)
from ._tables import ASTERISK_COLUMNS, PEERS, STATIC, TableSpec
from ._target import Session, Target

__all__ = [
    "TestCapabilities",
    "TestCodec",
    "TestConcurrency",
    "TestConditions",
    "TestErrors",
    "TestFailover",
    "TestLike",
    "TestOrdering",
    "TestRequire",
    "TestStateful",
    "TestStatic",
    "TestValues",
    "TestWrites",
]

FAM = "peers"
TEXT = PEERS.text
INTEGER = tuple(c for c in PEERS.columns if c in PEERS.integer)
WRITES = ("store",)


def _model(target: Target, spec: TableSpec = PEERS) -> Model:
    caps = target.capabilities
    return Model(
        list(spec.columns),
        spec.integer,
        case_insensitive=caps.case_insensitive,
        text_order=caps.text_order,
    )


def _store_all(s: Session, model: Model, rowlist: list[dict[str, str]]) -> None:
    for row in rowlist:
        got = s.rt.store(FAM, row)
        assert got == 1, f"store({row!r}) returned {got!r}; it must return 1"
        model.store(row)


def _names(rowlist: list[dict[str, str]]) -> list[str]:
    return [r.get("name", "") for r in rowlist]


def _limit(target: Target, size: int) -> int:
    limit = target.capabilities.max_value_length
    return size if limit is None else min(size, limit)


# -- values -------------------------------------------------------------------------------


@register_standard
class ValuesTests(ConformanceBase):
    """Values round-trip exactly; NULL and ``""`` are one."""

    @conformance("values", ops=("store", "load", "load_multi"))
    def test_hostile_values_round_trip(self, ara_target: Target) -> None:
        """Any value but NUL comes back exactly, and finds its row by ``=``.

        Usually broken by: values pasted into SQL/filters unescaped; trimming; the ``^XX``
        codec applied on one side only; a driver-side charset that is not UTF-8.
        """
        size = _limit(ara_target, PEERS.size("secret"))

        @examples(
            text_values(size, empty=False),
            explicit=[(h,) for h in HOSTILE if len(h) <= size],
        )
        def check(value: str) -> None:
            with ara_target.open({FAM: PEERS}) as s:
                assert s.rt.store(FAM, {"name": "v", "secret": value}) == 1
                want = {"name": "v", "secret": value}
                assert s.rt.load(FAM, ("name", "v")) == want
                assert s.rt.load(FAM, ("secret", value)) == want, "= on the value finds nothing"
                assert s.rt.load_multi(FAM, ("secret", value)) == [want]

        check()

    @conformance("values", ops=("store", "load"))
    def test_values_in_every_column(self, ara_target: Target) -> None:
        """A row using every column (``100rel``, ``@body``, ...) comes back as stored.

        Usually broken by: unquoted column names (``100rel`` in PostgreSQL, Asterisk #1655).
        """
        limit = ara_target.capabilities.max_value_length

        @examples(rows(PEERS, max_length=limit, min_columns=len(PEERS.columns)))
        def check(row: dict[str, str]) -> None:
            row = {**row, "name": "every"}
            with ara_target.open({FAM: PEERS}) as s:
                model = _model(ara_target)
                _store_all(s, model, [row])
                check_load(s.rt, FAM, model, [("name", "=", "every")])

        check()

    @conformance("values", ops=("store", "load"))
    def test_long_values_up_to_the_column_size(self, ara_target: Target, ara: Session) -> None:
        """A value as long as the column allows, made of hostile characters, round-trips."""
        model = _model(ara_target)
        for column in TEXT:
            size = _limit(ara_target, PEERS.size(column))
            value = ("';\\%_^ é漢🎉" * size)[:size]
            row = {"name": f"long-{column}"[:40]} if column != "name" else {}
            row[column] = value
            _store_all(ara, model, [row])
            check_load(ara.rt, FAM, model, [(column, "=", value)])

    @conformance("values", ops=("store", "load"))
    def test_integer_values_round_trip(self, ara_target: Target) -> None:
        """Integers across each integer type's whole range round-trip as canonical text."""

        @examples(st.fixed_dictionaries({c: integer_values(PEERS.columns[c]) for c in INTEGER}))
        def check(values: dict[str, str]) -> None:
            with ara_target.open({FAM: PEERS}) as s:
                model = _model(ara_target)
                _store_all(s, model, [{"name": "n", **values}])
                check_load(s.rt, FAM, model, [("name", "=", "n")])
                for column, value in values.items():
                    check_load(s.rt, FAM, model, [(column, "=", value)])

        check()

    @conformance("values", ops=("store", "load"))
    def test_rows_follow_column_order_without_empty_columns(self, ara: Session) -> None:
        """Rows list columns in table order and leave NULL/empty columns out."""
        assert ara.rt.store(FAM, {"secret": "s", "name": "bob", "host": "", "context": "c"}) == 1
        row = ara.rt.load(FAM, name="bob")
        assert row is not None
        assert list(row.items()) == [("name", "bob"), ("secret", "s"), ("context", "c")], (
            f"got {row!r}: columns must follow table order and empty ones must be left out"
        )

    @conformance("values", ops=("store", "load_multi", "update"))
    def test_null_and_empty_are_the_same(self, ara: Session) -> None:
        """``""`` and NULL are one value: never returned, matched by ``= ""``.

        Usually broken by: returning ``""`` columns; ``= ""`` matching only empty strings
        (or only NULL); ``!= v`` not matching absent values.
        """
        rt = ara.rt
        for name, host in [("a", "dynamic"), ("b", ""), ("c", None)]:
            rt.store(FAM, {"name": name} if host is None else {"name": name, "host": host})
        assert rt.update(FAM, "name", "a", {"context": ""}) == 1

        def names(*conds: tuple[str, str]) -> list[str]:
            return sorted(r["name"] for r in rt.load_multi(FAM, *conds))

        assert names(("host", "")) == ["b", "c"], '= "" must match NULL and empty'
        assert names(("host !=", "")) == ["a"], '!= "" must match non-empty only'
        assert names(("host !=", "dynamic")) == ["b", "c"], "!= v must match absent values too"
        assert names(("host LIKE", "%")) == ["a", "b", "c"], "LIKE treats absent as empty"
        assert names(("host NOT LIKE", "d%")) == ["b", "c"]
        assert names(("host NOT LIKE", "%")) == []
        assert names(("context", "")) == ["a", "b", "c"]
        for row in rt.load_multi(FAM, ("name LIKE", "%")):
            assert "" not in row.values(), f"empty value returned: {row!r}"

    @conformance("values", ops=("load", "load_multi"), backdoor="write")
    def test_empty_values_written_by_others_are_absent(self, ara: Session) -> None:
        """Rows another program wrote with ``""`` or NULL read as absent columns."""
        ara.write_raw(FAM, {"name": "x", "host": "", "secret": None, "context": "c"})
        assert ara.rt.load(FAM, name="x") == {"name": "x", "context": "c"}
        assert [r["name"] for r in ara.rt.load_multi(FAM, ("host", ""), ("secret", ""))] == ["x"]

    @conformance("values", ops=("store",), backdoor="read")
    def test_storage_holds_what_was_written(self, ara_target: Target) -> None:
        """What the back door reads equals what was stored (decoded if the codec is declared)."""
        limit = ara_target.capabilities.max_value_length

        @examples(st.lists(rows(PEERS, max_length=limit), max_size=4), scale=0.5)
        def check(rowlist: list[dict[str, str]]) -> None:
            with ara_target.open({FAM: PEERS}) as s:
                model = _model(ara_target)
                _store_all(s, model, rowlist)
                stored = s.stored(FAM)
                assert model.same_rows(stored, model.rows), (
                    f"storage holds {stored!r}, expected {model.rows!r}"
                )

        check()


# -- conditions ---------------------------------------------------------------------------


def _operator_property(target: Target, columns: tuple[str, ...]) -> Callable[[], None]:
    caps = target.capabilities
    binary = caps.text_order == "binary"

    @examples(
        st.lists(rows(PEERS, max_length=caps.max_value_length), min_size=1, max_size=5),
        st.data(),
    )
    def check(rowlist: list[dict[str, str]], data: st.DataObject) -> None:
        pool = tuple(v for r in rowlist for v in r.values())
        with target.open({FAM: PEERS}) as s:
            model = _model(target)
            _store_all(s, model, rowlist)
            for op in OPERATORS:
                if not binary and op in ("<", "<=", ">", ">=") and columns == TEXT:
                    continue
                cond = data.draw(
                    condition(PEERS, pool, columns=columns, ops=(op,)), label=f"condition {op}"
                )
                check_load_multi(s.rt, FAM, model, [cond])
                check_load(s.rt, FAM, model, [cond])

    return check


@register_standard
class ConditionsTests(ConformanceBase):
    """Every operator, on text and on integer columns."""

    @conformance("conditions", ops=("store", "load", "load_multi"))
    def test_every_operator_on_text_columns(self, ara_target: Target) -> None:
        """``= != < <= > >= LIKE NOT LIKE`` on text columns select what the model selects."""
        _operator_property(ara_target, TEXT)()

    @conformance("conditions", ops=("store", "load", "load_multi"))
    def test_every_operator_on_integer_columns(self, ara_target: Target) -> None:
        """The eight operators on integer columns (ordering is numeric: 9 < 10)."""
        _operator_property(ara_target, INTEGER)()

    @conformance("conditions", ops=("store", "load", "load_multi"))
    def test_several_conditions_all_apply(self, ara_target: Target) -> None:
        """Several conditions are joined with AND."""
        caps = ara_target.capabilities

        @examples(
            st.lists(rows(PEERS, max_length=caps.max_value_length), min_size=1, max_size=5),
            st.data(),
        )
        def check(rowlist: list[dict[str, str]], data: st.DataObject) -> None:
            pool = tuple(v for r in rowlist for v in r.values())
            strategy = condition(
                PEERS,
                pool,
                ci_safe=caps.case_insensitive,
                text_ordering=caps.text_order == "binary",
            )
            conds = data.draw(st.lists(strategy, min_size=2, max_size=4), label="conditions")
            with ara_target.open({FAM: PEERS}) as s:
                model = _model(ara_target)
                _store_all(s, model, rowlist)
                check_load_multi(s.rt, FAM, model, conds)

        check()

    @conformance("conditions", ops=("store", "load_multi"))
    def test_large_integers_compare_exactly(self, ara: Session) -> None:
        """64-bit integers compare exactly (no rounding through floating point).

        Usually broken by: converting to ``float`` (2**53 + 1 == 2**53 there).
        """
        big = 2**63 - 1
        values = [big, big - 1, -(2**63), 2**53 + 1, 2**53, 0]
        for i, value in enumerate(values):
            ara.rt.store(FAM, {"name": f"n{i}", "regseconds": str(value)})

        def names(op: str, value: int) -> list[str]:
            return sorted(_names(ara.rt.load_multi(FAM, (f"regseconds {op}", str(value)))))

        for i, value in enumerate(values):
            assert names("=", value) == [f"n{i}"], (
                f"regseconds = {value} matched {names('=', value)}"
            )
            want = sorted(f"n{j}" for j, v in enumerate(values) if v > value)
            assert names(">", value) == want, f"regseconds > {value}: {names('>', value)}"
            want = sorted(f"n{j}" for j, v in enumerate(values) if v != value)
            assert names("!=", value) == want, f"regseconds != {value}: {names('!=', value)}"
        got = [r["regseconds"] for r in ara.rt.load_multi(FAM, ("regseconds LIKE", "%"))]
        assert got == [str(v) for v in sorted(values)], f"order: {got}"

    @conformance("conditions", ops=("store", "load"))
    def test_operator_words_in_any_case_and_spacing(self, ara: Session) -> None:
        """``like``, ``Not  Like``, ``>=`` are operators whatever their case and spacing."""
        ara.rt.store(FAM, {"name": "alice", "port": "5060"})
        want = {"name": "alice", "port": "5060"}
        assert ara.rt.load(FAM, ("name like", "ali%")) == want
        assert ara.rt.load(FAM, ("name  Not   Like", "x%")) == want
        assert ara.rt.load(FAM, ("port >=", "5060")) == want
        assert ara.rt.load(FAM, ("port  <", "5061")) == want

    @conformance("conditions", ops=("store", "load", "load_multi"))
    def test_wildcards_are_literal_without_like(self, ara: Session) -> None:
        """``*``, ``%``, ``_`` and ``\\`` are plain characters for ``=`` and ``!=``.

        Usually broken by: LDAP filters that keep ``*``; SQL drivers that use LIKE for ``=``.
        """
        for name, host in [("a", "other"), ("b", "*"), ("c", "%"), ("d", "_"), ("e", "\\")]:
            ara.rt.store(FAM, {"name": name, "host": host})
        for name, literal in [("b", "*"), ("c", "%"), ("d", "_"), ("e", "\\")]:
            got = [r["name"] for r in ara.rt.load_multi(FAM, ("host", literal))]
            assert got == [name], f"host = {literal!r} matched {got}; it is a literal"
            assert ara.rt.load(FAM, host=literal) == {"name": name, "host": literal}
            others = sorted(r["name"] for r in ara.rt.load_multi(FAM, ("host !=", literal)))
            assert name not in others and len(others) == 4

    @conformance(
        "conditions",
        ops=("store", "load", "load_multi"),
        when=lambda caps: not caps.case_insensitive,
        label="exact matching (case_insensitive=False)",
    )
    def test_equality_is_case_and_space_sensitive(self, ara: Session) -> None:
        """``=`` and LIKE are exact: case and spaces matter."""
        ara.rt.store(FAM, {"name": "Alice"})
        assert ara.rt.load(FAM, name="alice") is None, "= ignored letter case"
        assert ara.rt.load(FAM, name="Alice ") is None, "= ignored a trailing space"
        assert ara.rt.load(FAM, name=" Alice") is None, "= ignored a leading space"
        assert ara.rt.load_multi(FAM, ("name LIKE", "alice")) == [], "LIKE ignored letter case"
        assert ara.rt.load(FAM, name="Alice") == {"name": "Alice"}

    @conformance("conditions", ops=("store", "load"))
    def test_mapping_and_keyword_conditions(self, ara: Session) -> None:
        """Conditions given as a mapping and as keywords mean the same as pairs."""
        ara.rt.store(FAM, {"name": "a", "host": "h", "context": "c"})
        assert ara.rt.load(FAM, {"name": "a", "host": "h"}, context="c") is not None
        assert ara.rt.load(FAM, {"name": "a", "host": "h"}, context="d") is None
        assert ara.rt.load(FAM, {"name": "a", "host LIKE": "%"}) is not None


# -- LIKE ---------------------------------------------------------------------------------

_LIKE_NAMES = ["alice", "al_ice", "al", "50%off", "back\\slash", "a%b_c\\d"]
_LIKE_CASES = [
    ("al%", ["al", "al_ice", "alice"]),
    ("al_ce", ["alice"]),
    ("al\\_%", ["al_ice"]),
    ("%\\%%", ["50%off", "a%b_c\\d"]),
    ("%e", ["al_ice", "alice"]),
    ("_", []),
    ("__", ["al"]),
    ("back\\\\slash", ["back\\slash"]),
    ("a\\%b\\_c\\\\d", ["a%b_c\\d"]),
    ("\\a\\l", ["al"]),
    ("%", _LIKE_NAMES),
]


@register_standard
class LikeTests(ConformanceBase):
    """``LIKE``/``NOT LIKE``: ``%``, ``_``, and ``\\`` escapes."""

    @conformance("like", ops=("store", "load_multi"))
    @pytest.mark.parametrize(("pattern", "expected"), _LIKE_CASES)
    def test_like_escapes(self, ara: Session, pattern: str, expected: list[str]) -> None:
        """``%`` any run, ``_`` one character, ``\\`` makes the next character literal.

        Usually broken by: no ESCAPE clause (MySQL's default differs, SQLite has none);
        LDAP substring filters without a client-side check.
        """
        for name in _LIKE_NAMES:
            ara.rt.store(FAM, {"name": name})
        got = sorted(r["name"] for r in ara.rt.load_multi(FAM, ("name LIKE", pattern)))
        assert got == sorted(expected), f"name LIKE {pattern!r}"
        not_like = sorted(r["name"] for r in ara.rt.load_multi(FAM, ("name NOT LIKE", pattern)))
        assert not_like == sorted(set(_LIKE_NAMES) - set(expected)), f"name NOT LIKE {pattern!r}"

    @conformance("like", ops=("store", "load_multi"))
    def test_like_matches_the_model(self, ara_target: Target) -> None:
        """Random values and patterns derived from them: the driver agrees with the model."""
        ci = ara_target.capabilities.case_insensitive

        @examples(
            st.lists(text_values(PEERS.size("secret"), ci_safe=ci), min_size=1, max_size=5),
            st.data(),
        )
        def check(values: list[str], data: st.DataObject) -> None:
            base = data.draw(st.sampled_from(values), label="base")
            pattern = data.draw(like_patterns(base), label="pattern")
            with ara_target.open({FAM: PEERS}) as s:
                model = _model(ara_target)
                _store_all(s, model, [{"name": str(i), "secret": v} for i, v in enumerate(values)])
                check_load_multi(s.rt, FAM, model, [("secret", "LIKE", pattern)])
                check_load_multi(s.rt, FAM, model, [("secret", "NOT LIKE", pattern)])

        check()

    @conformance("like", ops=("store", "load_multi"))
    def test_like_treats_absent_as_empty(self, ara: Session) -> None:
        """An absent value is ``""`` for LIKE: ``%`` matches it, ``_%`` does not."""
        ara.rt.store(FAM, {"name": "with", "host": "h"})
        ara.rt.store(FAM, {"name": "without"})
        assert sorted(_names(ara.rt.load_multi(FAM, ("host LIKE", "%")))) == ["with", "without"]
        assert _names(ara.rt.load_multi(FAM, ("host LIKE", "_%"))) == ["with"]
        assert _names(ara.rt.load_multi(FAM, ("host NOT LIKE", "_%"))) == ["without"]
        assert _names(ara.rt.load_multi(FAM, ("host NOT LIKE", "h"))) == ["without"]

    @conformance("like", ops=("load", "load_multi"))
    def test_like_with_a_trailing_backslash_is_an_error(self, ara: Session) -> None:
        """A pattern ending in a lone ``\\`` is a ``QueryError``, even on an empty table."""
        for pattern in ("abc\\", "\\", "a\\\\\\"):
            with pytest.raises(QueryError):
                ara.rt.load(FAM, ("name LIKE", pattern))
            with pytest.raises(QueryError):
                ara.rt.load_multi(FAM, ("name NOT LIKE", pattern))
        if "store" in ara.target.capabilities.operations:
            ara.rt.store(FAM, {"name": "abc\\"})
        with pytest.raises(QueryError):
            ara.rt.load_multi(FAM, ("name LIKE", "abc\\"))


# -- ordering -----------------------------------------------------------------------------


#: ``uinteger8`` values from small to the largest, for the unsigned 64-bit tests.
_UINT64 = [9, 10, 100, 2**63 + 1, 2**64 - 1]


def _uint64_results(target: Target) -> tuple[list[str], list[str]]:
    """``load_multi`` of every stored ``uinteger8`` value, and of those ``> 9``."""
    spec = TableSpec("u8", {"name": Requirement(RQ.CHAR, 10), "big": Requirement(RQ.UINTEGER8, 20)})
    with target.open({"u8": spec}) as s:
        for i, value in enumerate(_UINT64):
            s.rt.store("u8", {"name": f"n{i}", "big": str(value)})
        got = [r["big"] for r in s.rt.load_multi("u8", ("big LIKE", "%"))]
        above = [r["big"] for r in s.rt.load_multi("u8", ("big >", "9"))]
    return got, above


@register_standard
class OrderingTests(ConformanceBase):
    """``load_multi`` order and the comparison operators."""

    @conformance("ordering", ops=("store", "load_multi"))
    def test_load_multi_orders_by_the_first_condition(self, ara_target: Target) -> None:
        """Rows come ordered by the first condition's column, absent values first.

        Usually broken by: ordering by the key column or insertion order; NULLs last
        (PostgreSQL's default); text ordering of integer columns.
        """
        caps = ara_target.capabilities

        @examples(
            st.lists(rows(PEERS, max_length=caps.max_value_length), min_size=1, max_size=6),
            st.sampled_from(list(PEERS.columns)),
        )
        def check(rowlist: list[dict[str, str]], column: str) -> None:
            with ara_target.open({FAM: PEERS}) as s:
                model = _model(ara_target)
                _store_all(s, model, rowlist)
                check_load_multi(s.rt, FAM, model, [(column, "LIKE", "%")])
                check_load_multi(
                    s.rt, FAM, model, [(column, "NOT LIKE", "\\a%"), ("name", "LIKE", "%")]
                )

        check()

    @conformance("ordering", ops=("store", "load_multi"))
    def test_absent_values_sort_first(self, ara: Session) -> None:
        """Absent (NULL or empty) values come before every other value."""
        for name, context in [("c", "x"), ("a", "z"), ("b", "y"), ("d", ""), ("e", None)]:
            ara.rt.store(
                FAM, {"name": name} if context is None else {"name": name, "context": context}
            )
        got = [r.get("context", "") for r in ara.rt.load_multi(FAM, ("context LIKE", "%"))]
        assert got == ["", "", "x", "y", "z"], f"order by context: {got}"
        got = [r.get("port", "") for r in ara.rt.load_multi(FAM, ("port LIKE", "%"))]
        assert got == [""] * 5

    @conformance("ordering", ops=("store", "load_multi"))
    def test_integer_columns_order_and_compare_numerically(self, ara: Session) -> None:
        """On integer columns, ``9 < 10 < 100`` and negative numbers come first."""
        values = ["9", "10", "100", "5060", "-1", "0"]
        for i, value in enumerate(values):
            ara.rt.store(FAM, {"name": f"p{i}", "lastms": value})
        got = [r["lastms"] for r in ara.rt.load_multi(FAM, ("lastms >=", "-100"))]
        assert got == ["-1", "0", "9", "10", "100", "5060"], f"numeric order: {got}"
        below = sorted(int(r["lastms"]) for r in ara.rt.load_multi(FAM, ("lastms <", "10")))
        assert below == [-1, 0, 9], f"lastms < 10 must compare numbers, got {below}"
        above = sorted(int(r["lastms"]) for r in ara.rt.load_multi(FAM, ("lastms >", "9")))
        assert above == [10, 100, 5060], f"lastms > 9 must compare numbers, got {above}"

    @conformance(
        "ordering",
        ops=("store", "load_multi"),
        when=lambda caps: caps.uint64_order == "numeric",
        label='uint64_order="numeric"',
    )
    def test_unsigned_64_bit_columns_order_numerically(self, ara_target: Target) -> None:
        """A ``uinteger8`` column is numeric too, up to 2**64 - 1.

        Usually broken by: storing such columns as text because the engine's integers are
        signed 64-bit (then ``"10" < "9"``); such a driver declares ``uint64_order="text"``.
        """
        got, above = _uint64_results(ara_target)
        assert got == [str(v) for v in _UINT64], f"uinteger8 order: {got}"
        assert above == [str(v) for v in _UINT64[1:]], f"big > 9 selected {above}"

    @conformance(
        "ordering",
        ops=("store", "load_multi"),
        when=lambda caps: caps.uint64_order == "text",
        label='uint64_order="text"',
    )
    def test_unsigned_64_bit_columns_declared_as_text(self, ara_target: Target) -> None:
        """A driver declaring ``uint64_order="text"`` keeps every value up to 2**64 - 1 exact
        and orders and compares them as text, as declared."""
        got, above = _uint64_results(ara_target)
        as_text = sorted(str(v) for v in _UINT64)
        assert got == as_text, f"uinteger8 declared as text, ordered {got}"
        assert above == [v for v in as_text if v > "9"], f"big > 9 (as text) selected {above}"

    @conformance(
        "ordering",
        ops=("store", "load_multi"),
        when=lambda caps: caps.text_order == "binary",
        label='text_order="binary"',
    )
    def test_text_orders_by_code_point(self, ara: Session) -> None:
        """Text compares and sorts by code point (``"B" < "Z" < "a" < "é"``)."""
        for name in ["b", "B", "é", "a", "Z", "🎉", "ab", "a b"]:
            ara.rt.store(FAM, {"name": name})
        got = _names(ara.rt.load_multi(FAM, ("name LIKE", "%")))
        assert got == sorted(got) == ["B", "Z", "a", "a b", "ab", "b", "é", "🎉"], got
        assert _names(ara.rt.load_multi(FAM, ("name >", "Z"))) == ["a", "a b", "ab", "b", "é", "🎉"]
        assert _names(ara.rt.load_multi(FAM, ("name <=", "B"))) == ["B"]

    @conformance("ordering", ops=("store", "load_multi"))
    def test_comparisons_never_match_absent_values(self, ara: Session) -> None:
        """``< <= > >=`` never match an absent value (on text and integer columns)."""
        ara.rt.store(FAM, {"name": "with", "host": "m", "lastms": "5"})
        ara.rt.store(FAM, {"name": "without"})
        for field, value in [("host", "zzz"), ("host", "\U0010ffff"), ("lastms", "1000000")]:
            for op in ("<", "<="):
                got = _names(ara.rt.load_multi(FAM, (f"{field} {op}", value)))
                assert got == ["with"], f"{field} {op} {value!r} matched {got}"
        for field, value in [("host", ""), ("lastms", "-1000000")]:
            for op in (">", ">="):
                if field == "host" and op == ">=":
                    continue
                got = _names(ara.rt.load_multi(FAM, (f"{field} {op}", value)))
                assert got == ["with"], f"{field} {op} {value!r} matched {got}"

    @conformance("ordering", ops=("store", "load_multi"))
    def test_comparisons_agree_with_the_order(self, ara_target: Target) -> None:
        """``col < v`` selects exactly the rows that sort before ``v`` (any declared order)."""

        @examples(st.lists(text_values(20, empty=False), min_size=1, max_size=6, unique=True))
        def check(values: list[str]) -> None:
            with ara_target.open({FAM: PEERS}) as s:
                for i, value in enumerate(values):
                    s.rt.store(FAM, {"name": str(i), "host": value})
                ordered = [r["host"] for r in s.rt.load_multi(FAM, ("host !=", ""))]
                for i, value in enumerate(ordered):
                    below = {r["host"] for r in s.rt.load_multi(FAM, ("host <", value))}
                    assert below <= set(ordered[:i]), (
                        f"host < {value!r} selected {sorted(below - set(ordered[:i]))}, which "
                        f"load_multi puts after it ({ordered})"
                    )
                    above = {r["host"] for r in s.rt.load_multi(FAM, ("host >", value))}
                    assert above <= set(ordered[i + 1 :]), f"host > {value!r}: {above} vs {ordered}"

        check()


# -- writes -------------------------------------------------------------------------------


@register_standard
class WritesTests(ConformanceBase):
    """``store``, ``update``, ``update2``, ``destroy`` and what they return."""

    @conformance("writes", ops=("store", "load_multi"))
    def test_store_returns_one_and_rows_accumulate(self, ara: Session) -> None:
        """``store`` returns 1; identical rows may be stored twice."""
        for _ in range(3):
            assert ara.rt.store(FAM, {"name": "same", "host": "h"}) == 1
        assert len(ara.rt.load_multi(FAM, name="same")) == 3

    @conformance("writes", ops=("store", "update", "load"))
    def test_update_counts_matched_rows_including_unchanged(self, ara: Session) -> None:
        """``update`` returns rows *matched*, counting rows whose values did not change.

        Usually broken by: MySQL's affected-rows count without CLIENT_FOUND_ROWS.
        """
        for name in "abc":
            ara.rt.store(FAM, {"name": name, "host": "dynamic"})
        assert ara.rt.update(FAM, "host", "dynamic", {"context": "x"}) == 3
        assert ara.rt.update(FAM, "host", "dynamic", {"context": "x"}) == 3, (
            "unchanged rows must be counted"
        )
        assert ara.rt.update(FAM, "name", "nobody", {"context": "x"}) == 0
        assert ara.rt.update(FAM, "name LIKE", "_", {"port": "5060"}) == 3
        assert ara.rt.load(FAM, name="b") == {
            "name": "b",
            "host": "dynamic",
            "context": "x",
            "port": "5060",
        }

    @conformance("writes", ops=("store", "update2", "load_multi"))
    def test_update2_applies_every_condition(self, ara: Session) -> None:
        """``update2`` matches all lookup conditions and returns rows matched."""
        for name in "abcd":
            ara.rt.store(FAM, {"name": name, "host": "dynamic" if name != "d" else "static"})
        assert ara.rt.update2(FAM, [("host", "dynamic"), ("name !=", "a")], {"context": "y"}) == 2
        assert ara.rt.update2(FAM, [("host", "dynamic"), ("name !=", "a")], {"context": "y"}) == 2
        assert ara.rt.update2(FAM, {"host": "static", "name": "a"}, {"context": "z"}) == 0
        got = sorted(
            (r["name"], r.get("context", "")) for r in ara.rt.load_multi(FAM, ("name LIKE", "%"))
        )
        assert got == [("a", ""), ("b", "y"), ("c", "y"), ("d", "")]

    @conformance("writes", ops=("store", "destroy", "load_multi"))
    def test_destroy_counts_and_extra_conditions(self, ara: Session) -> None:
        """``destroy`` deletes rows matching the key and every extra condition (rows deleted)."""
        for name, ctx in [("a", "x"), ("b", "y"), ("c", "y")]:
            ara.rt.store(FAM, {"name": name, "host": "dynamic", "context": ctx})
        assert ara.rt.destroy(FAM, "name", "a") == 1
        assert ara.rt.destroy(FAM, "name", "a") == 0
        assert ara.rt.destroy(FAM, "host", "dynamic", ("context", "x")) == 0
        assert ara.rt.destroy(FAM, "host", "dynamic", ("context", "y")) == 2
        assert ara.rt.load_multi(FAM, ("name LIKE", "%")) == []

    @conformance("writes", ops=("store", "update", "load"))
    def test_writing_empty_clears_the_value(self, ara: Session) -> None:
        """Writing ``""`` removes the value (stores NULL where allowed)."""
        ara.rt.store(FAM, {"name": "a", "host": "dynamic", "port": "5060"})
        assert ara.rt.update(FAM, "name", "a", {"host": "", "port": ""}) == 1
        assert ara.rt.load(FAM, name="a") == {"name": "a"}

    @conformance("writes", ops=("store", "update", "update2", "load"))
    def test_failed_write_changes_nothing(self, ara: Session) -> None:
        """A write refused with ``QueryError`` leaves the row as it was."""
        ara.rt.store(FAM, {"name": "a", "host": "h"})
        with pytest.raises(QueryError):
            ara.rt.update(FAM, "name", "a", {"host": "new", "nosuch": "x"})
        with pytest.raises(QueryError):
            ara.rt.update2(FAM, {"name": "a"}, {"nosuch": "x", "host": "new"})
        with pytest.raises(QueryError):
            ara.rt.store(FAM, {"name": "b", "nosuch": "x"})
        assert ara.rt.load(FAM, name="a") == {"name": "a", "host": "h"}
        assert ara.rt.load(FAM, name="b") is None

    @conformance("writes", ops=("store", "load"))
    def test_load_returns_one_row_never_a_merge(self, ara: Session) -> None:
        """``load`` returns one whole matching row, never columns merged from several.

        Usually broken by: Asterisk's LDAP-style merging of every matching entry.
        """
        ara.rt.store(FAM, {"name": "a", "host": "h", "secret": "1"})
        ara.rt.store(FAM, {"name": "b", "host": "h", "context": "c"})
        row = ara.rt.load(FAM, host="h")
        assert row in (
            {"name": "a", "host": "h", "secret": "1"},
            {"name": "b", "host": "h", "context": "c"},
        ), f"load merged rows: {row!r}"


# -- errors -------------------------------------------------------------------------------


@register_standard
class ErrorsTests(ConformanceBase):
    """Caller mistakes are ``QueryError``s that name what is wrong."""

    @conformance("errors", ops=("store", "load", "load_multi", "update", "update2", "destroy"))
    def test_unknown_column_names_family_table_and_column(self, ara: Session) -> None:
        """An unknown column is a ``QueryError`` with ``.family``, ``.table`` and ``.field``.

        Usually broken by: silently skipping unknown columns (Asterisk's pgsql driver).
        """
        rt = ara.rt
        rt.store(FAM, {"name": "alice"})
        table = ara.table(FAM)
        calls: list[tuple[str, Callable[[], object]]] = [
            ("load", lambda: rt.load(FAM, nosuch="x")),
            ("load_multi", lambda: rt.load_multi(FAM, ("nosuch LIKE", "%"))),
            (
                "load_multi (2nd condition)",
                lambda: rt.load_multi(FAM, ("name", "alice"), ("nosuch", "x")),
            ),
            ("update (value)", lambda: rt.update(FAM, "name", "alice", {"nosuch": "1"})),
            ("update (key)", lambda: rt.update(FAM, "nosuch", "alice", {"host": "1"})),
            ("update2", lambda: rt.update2(FAM, {"nosuch": "1"}, {"host": "x"})),
            ("store", lambda: rt.store(FAM, {"name": "b", "nosuch": "1"})),
            ("destroy", lambda: rt.destroy(FAM, "nosuch", "x")),
        ]
        for what, call in calls:
            with pytest.raises(QueryError) as info:
                call()
            err = info.value
            assert (err.family, err.table, err.field) == (FAM, table, "nosuch"), (
                f"{what}: QueryError must name family, table and column; got "
                f"family={err.family!r} table={err.table!r} field={err.field!r}"
            )
            assert "nosuch" in str(err), f"{what}: the message must name the column: {err}"
        assert rt.load(FAM, name="alice") == {"name": "alice"}

    @conformance("errors", ops=("load",))
    def test_unknown_operators_are_query_errors(self, ara: Session) -> None:
        """Anything but the eight operators is a ``QueryError`` naming it."""
        for bad in [
            "name IS",
            "name REGEXP",
            "name = 1 OR 1",
            "name ~",
            "name <>",
            "name ==",
            "name !~",
        ]:
            with pytest.raises(QueryError) as info:
                ara.rt.load(FAM, (bad, "x"))
            assert bad.split(" ", 1)[1].split()[0] in str(info.value), str(info.value)

    @conformance("errors", ops=("store", "load"))
    def test_nul_is_rejected_before_any_io(self, ara_target: Target) -> None:
        """A NUL in a value is a ``QueryError`` (a ``ValueError``) raised before any I/O.

        Checked while the backend is down: a ``BackendError`` would mean I/O was attempted.
        """
        with ara_target.open({FAM: PEERS}, roles=("primary",), faults=True) as s:
            s.rt.store(FAM, {"name": "a"})
            with s.outage("primary"):
                for call in (
                    lambda: s.rt.store(FAM, {"name": "x\x00y"}),
                    lambda: s.rt.load(FAM, name="\x00"),
                    lambda: s.rt.load_multi(FAM, ("name LIKE", "%\x00")),
                    lambda: s.rt.update(FAM, "name", "a", {"host": "\x00"}),
                    lambda: s.rt.destroy(FAM, "name", "a\x00"),
                ):
                    with pytest.raises(QueryError) as info:
                        call()
                    assert isinstance(info.value, ValueError)
                    assert "NUL" in str(info.value)
            time.sleep(ara_target.backoff * 3)
            assert s.rt.load(FAM, name="a") == {"name": "a"}

    @conformance("errors", ops=("load", "load_multi", "update2"))
    def test_at_least_one_condition(self, ara: Session) -> None:
        """``load``, ``load_multi`` and ``update2`` need a condition."""
        with pytest.raises(QueryError):
            ara.rt.load(FAM)
        with pytest.raises(QueryError):
            ara.rt.load_multi(FAM)
        with pytest.raises(QueryError):
            ara.rt.update2(FAM, {}, {"host": "x"})

    @conformance("errors", ops=("store", "load", "load_multi"))
    def test_invalid_names_and_values_never_reach_storage(self, ara: Session) -> None:
        """Column names that are not identifiers, and non-``str`` values, are refused."""
        for bad in ['na"me', "name'", "", "-x", "a;b", "a)", "a b c d", "x\x00"]:
            with pytest.raises(QueryError):
                ara.rt.store(FAM, {bad: "x"})
        with pytest.raises(QueryError):
            ara.rt.store(FAM, {"name": "x", "port": 5060})  # type: ignore[dict-item]
        with pytest.raises(QueryError):
            ara.rt.load(FAM, ("name", None))  # type: ignore[arg-type]
        assert ara.rt.load_multi(FAM, ("name LIKE", "%")) == []


# -- require and unload -------------------------------------------------------------------


@register_standard
class RequireTests(ConformanceBase):
    """``require``, ``unload``, and tables with Asterisk's column names."""

    @conformance("require", ops=("require",))
    def test_require_accepts_existing_columns(self, ara: Session) -> None:
        """Requiring columns the table has (with fitting types) returns True."""
        assert ara.rt.require(FAM, {"name": ("char", 40), "port": ("uinteger2", 5)}) is True

    @conformance(
        "require",
        ops=("require", "store", "load"),
        when=lambda caps: caps.require_create,
        label="require_create=True",
    )
    def test_require_creates_missing_columns(self, ara: Session) -> None:
        """In a create mode, ``require`` adds missing columns, usable at once."""
        assert ara.rt.require(FAM, {"useragent": ("char", 255), "regserver": ("char", 20)})
        ara.rt.store(FAM, {"name": "a", "useragent": "Yealink"})
        assert ara.rt.load(FAM, useragent="Yealink") == {"name": "a", "useragent": "Yealink"}

    @conformance("require", ops=("store", "load", "update2", "load_multi"))
    def test_asterisk_column_names(self, ara_target: Target) -> None:
        """Tables whose columns are Asterisk's awkward names work for every operation.

        With ``require_create`` the suite builds tables from random sets of real column
        names; otherwise it uses its fixed table.
        """
        creates = ara_target.capabilities.require_create

        @examples(
            st.lists(st.sampled_from(ASTERISK_COLUMNS), min_size=1, max_size=6, unique=True),
            st.data(),
            scale=0.4,
        )
        def check(columns: list[str], data: st.DataObject) -> None:
            if creates:
                spec = TableSpec(
                    "asterisk",
                    {
                        "id": Requirement(RQ.CHAR, 40),
                        **{c: Requirement(RQ.CHAR, 40) for c in columns},
                    },
                )
            else:
                spec = PEERS
                columns = ["100rel", "@body", "event_asterisk-mwi", "session-timers"]
            values = {
                c: data.draw(text_values(_limit(ara_target, spec.size(c)), empty=False))
                for c in columns
            }
            key = "id" if creates else "name"
            with ara_target.open({FAM: spec}) as s:
                model = _model(ara_target, spec)
                assert s.rt.store(FAM, {key: "k", **values}) == 1
                model.store({key: "k", **values})
                for column, value in values.items():
                    check_load(s.rt, FAM, model, [(column, "=", value)])
                first = columns[0]
                assert s.rt.update2(FAM, {first: values[first]}, {columns[-1]: "changed"}) == 1
                model.update([(first, "=", values[first])], {columns[-1]: "changed"})
                check_load_multi(s.rt, FAM, model, [(columns[-1], "LIKE", "%")])

        check()

    @conformance("require", ops=("unload", "store", "load"))
    def test_unload_keeps_the_data(self, ara: Session) -> None:
        """``unload`` drops cached metadata only: rows stay, the table is read again."""
        ara.rt.store(FAM, {"name": "a"})
        ara.rt.unload(FAM)
        assert ara.rt.load(FAM, name="a") == {"name": "a"}
        ara.rt.unload(FAM)
        ara.rt.store(FAM, {"name": "b"})
        assert ara.rt.load(FAM, name="b") == {"name": "b"}

    @conformance("require", ops=("require",))
    def test_unknown_requirement_type_is_a_query_error(self, ara: Session) -> None:
        """A requirement type that is not an ``RQ`` name is refused."""
        with pytest.raises(QueryError):
            ara.rt.require(FAM, {"x": ("varchar", 3)})


# -- static configuration -----------------------------------------------------------------

_STATIC_FAMILY = "ast_config"


def _static_session(target: Target, *observers: object) -> Session:
    return target.open({_STATIC_FAMILY: STATIC}, static=_STATIC_FAMILY, observers=observers)


class _StaticRowsSeen:
    """Wrapper plugin keeping what ``ara_load_static`` returned, as a list per call."""

    def __init__(self) -> None:
        self.calls: list[list[Any]] = []

    @hookimpl(wrapper=True)
    def ara_load_static(self, connection: object) -> Generator[None, Any, Any]:
        rows = list((yield))
        self.calls.append(rows)
        return rows


def _store_static(s: Session, rowlist: list[StaticModelRow]) -> None:
    for row in rowlist:
        assert s.rt.store(_STATIC_FAMILY, row.as_values()) == 1


def _config_rows(
    config: list[tuple[str, list[tuple[str, str]]]], filename: str
) -> list[StaticModelRow]:
    out = []
    for i, (category, variables) in enumerate(config):
        for j, (name, value) in enumerate(variables):
            out.append(StaticModelRow(filename, category, name, value, len(config) - i, j))
    return out


def _as_config(config: list[tuple[str, list[tuple[str, str]]]]) -> Config:
    cfg = Config()
    for category, variables in config:
        cat = cfg.add_category(category)
        for name, value in variables:
            cat.append(name, value)
    return cfg


def _assert_config(got: Config, want: Config, what: str) -> None:
    assert got.to_dict() == want.to_dict(), (
        f"{what}: load_config gave {got.to_dict()!r}, the contract says {want.to_dict()!r}"
    )


@register_standard
class StaticTests(ConformanceBase):
    """Static configuration from ``ast_config`` rows."""

    @conformance("static", ops=("load_static", "store"))
    def test_static_config_round_trip(self, ara_target: Target) -> None:
        """A random ``Config`` stored as rows (in shuffled order) loads back equal."""

        @examples(static_configs(), st.randoms(use_true_random=False), scale=0.6)
        def check(config: list[tuple[str, list[tuple[str, str]]]], rnd: Any) -> None:
            rowlist = _config_rows(config, "round.conf")
            rnd.shuffle(rowlist)
            with _static_session(ara_target) as s:
                _store_static(s, rowlist)
                _assert_config(s.rt.load_config("round.conf"), _as_config(config), "round trip")

        check()

    @conformance("static", ops=("load_static", "store"))
    def test_static_row_order_and_categories(self, ara_target: Target) -> None:
        """Rows order by cat_metric desc, var_metric, category, var_name; a new category
        starts when the name or cat_metric changes; commented rows and other files are left out.

        Usually broken by: ordering by id or insertion (Asterisk's MySQL driver), grouping
        categories by name only.
        """

        @examples(static_rows("order.conf", others=("other.conf",)), scale=0.6)
        def check(rowlist: list[StaticModelRow]) -> None:
            with _static_session(ara_target) as s:
                _store_static(s, rowlist)
                want = static_config(rowlist, "order.conf")
                _assert_config(s.rt.load_config("order.conf"), want, "row order")

        check()

    @conformance("static", ops=("load_static", "store"))
    def test_static_include_rows(self, ara_target: Target) -> None:
        """A ``#include`` row splices the named file in at its place."""
        rowlist = [
            StaticModelRow("main.conf", "general", "a", "1", 2, 0),
            StaticModelRow("main.conf", "", "#include", "inc.conf", 1, 0),
            StaticModelRow("main.conf", "late", "z", "9", 0, 0),
            StaticModelRow("inc.conf", "included", "k", "v;^", 5, 0),
            StaticModelRow("inc.conf", "included", "k2", "v2", 5, 1),
            StaticModelRow("inc.conf", "hidden", "h", "x", 4, 0, commented=1),
        ]
        with _static_session(ara_target) as s:
            _store_static(s, rowlist)
            got = s.rt.load_config("main.conf")
            _assert_config(got, static_config(rowlist, "main.conf"), "#include")
            assert [c.name for c in got] == ["general", "included", "late"]

    @conformance("static", ops=("load_static", "store"))
    def test_static_rows_have_the_hooks_shape(self, ara_target: Target) -> None:
        """``ara_load_static`` yields ``(category, var_name, var_val, cat_metric, var_metric)``
        tuples: three ``str`` and two ``int``, the active rows of the file in contract order.

        Usually broken by: metrics handed over as text or decimals, extra columns (``id``,
        ``filename``), rows as dicts.
        """
        rowlist = [
            StaticModelRow("shape.conf", "b", "x", "1;2", 7, 2),
            StaticModelRow("shape.conf", "a", "y", "3", 7, 2),
            StaticModelRow("shape.conf", "b", "z", "^4", 7, 0),
            StaticModelRow("shape.conf", "c", "w", "5", 12, 9),
            StaticModelRow("shape.conf", "c", "v", "6", 0, 1, commented=1),
            StaticModelRow("other.conf", "c", "u", "7", 3, 3),
        ]
        seen = _StaticRowsSeen()
        with _static_session(ara_target, seen) as s:
            _store_static(s, rowlist)
            s.rt.load_config("shape.conf")
        assert seen.calls, "ara_load_static was never called"
        got = seen.calls[0]
        for row in got:
            types = tuple(type(v).__name__ for v in row) if isinstance(row, tuple) else None
            assert types == ("str", "str", "str", "int", "int"), (
                f"a static row must be a (str, str, str, int, int) tuple, got {row!r}"
            )
        active = [r for r in rowlist if r.filename == "shape.conf" and not r.commented]
        active.sort(key=lambda r: (-r.cat_metric, r.var_metric, r.category, r.var_name))
        want = [(r.category, r.var_name, r.var_val, r.cat_metric, r.var_metric) for r in active]
        assert [tuple(r) for r in got] == want, (
            f"static rows: ara_load_static gave {got!r}, the contract says {want!r}"
        )

    @conformance("static", ops=("load_static", "store"))
    def test_static_file_without_rows_is_empty(self, ara_target: Target) -> None:
        """A file with no (active) rows loads as an empty ``Config``."""
        with _static_session(ara_target) as s:
            _store_static(s, [StaticModelRow("x.conf", "c", "v", "1", 0, 0, commented=1)])
            assert list(s.rt.load_config("x.conf")) == []
            assert list(s.rt.load_config("none.conf")) == []


# -- the ^XX codec ------------------------------------------------------------------------


def _codec(caps: Capabilities) -> bool:
    return caps.codec


@register_standard
class CodecTests(ConformanceBase):
    """Asterisk's on-disk ``^XX`` form, where the driver declares it."""

    @conformance("codec", ops=("store",), backdoor="read", when=_codec, label="codec=True")
    def test_codec_storage_holds_asterisk_form(self, ara: Session) -> None:
        """``;`` is stored as ``^3B`` and ``^`` as ``^5E``, so Asterisk reads the same data."""
        ara.rt.store(FAM, {"name": "c", "secret": "a;b^c", "@body": "^3B"})
        (raw,) = ara.raw(FAM)
        assert raw["secret"] in ("a^3Bb^5Ec", "a^3bb^5ec"), f"stored {raw['secret']!r}"
        assert raw["@body"] in ("^5E3B", "^5e3B"), f"stored {raw['@body']!r}"

    @conformance(
        "codec", ops=("load", "load_multi"), backdoor="write", when=_codec, label="codec=True"
    )
    def test_codec_decodes_either_hex_case(self, ara: Session) -> None:
        """Rows Asterisk wrote (``^3B`` or ``^3b``) read back decoded."""
        ara.write_raw(FAM, {"name": "x", "secret": "a^3bb^5Ec"})
        assert ara.rt.load(FAM, name="x") == {"name": "x", "secret": "a;b^c"}
        assert _names(ara.rt.load_multi(FAM, ("secret", "a;b^c"))) == ["x"]

    @conformance(
        "codec", ops=("store", "load", "load_multi", "update"), when=_codec, label="codec=True"
    )
    def test_codec_conditions_see_decoded_values(self, ara: Session) -> None:
        """Conditions and updates use the decoded values (``= 'a;b'``, ``LIKE '%;%'``)."""
        ara.rt.store(FAM, {"name": "a;b", "host": "^"})
        assert ara.rt.load(FAM, name="a;b") == {"name": "a;b", "host": "^"}
        assert _names(ara.rt.load_multi(FAM, ("name LIKE", "%;%"))) == ["a;b"]
        assert _names(ara.rt.load_multi(FAM, ("host LIKE", "^"))) == ["a;b"]
        assert ara.rt.update(FAM, "host", "^", {"context": ";"}) == 1
        assert ara.rt.load(FAM, context=";") == {"name": "a;b", "host": "^", "context": ";"}


# -- failover -----------------------------------------------------------------------------


def _pair(target: Target, **kwargs: Any) -> Session:
    """Family ``peers`` on two backends (priority 1 and 2), with an outage available."""
    return target.open({FAM: PEERS}, roles=("primary", "secondary"), faults=True, **kwargs)


def _seed(s: Session) -> None:
    assert s.direct("primary").store(FAM, {"name": "p", "host": "one"}) == 1
    assert s.direct("secondary").store(FAM, {"name": "s", "host": "two"}) == 1


def _rest(target: Target) -> None:
    time.sleep(target.backoff * 3 + 0.02)


@register_standard
class FailoverTests(ConformanceBase):
    """Backend failures: ``BackendError``, priorities, recovery."""

    @conformance("failover", ops=("store", "load"))
    def test_backend_down_is_a_backend_error(self, ara_target: Target) -> None:
        """With the storage down, every operation raises ``BackendError`` (not None/[]/0).

        Usually broken by: catching the driver's errors and returning "not found".
        """
        with ara_target.open({FAM: PEERS}, roles=("primary",), faults=True) as s:
            rt = s.rt
            rt.store(FAM, {"name": "a", "host": "h"})
            ops = ara_target.capabilities.operations
            calls: list[tuple[str, Callable[[], object]]] = [
                ("load", lambda: rt.load(FAM, name="a")),
                ("load_multi", lambda: rt.load_multi(FAM, ("name LIKE", "%"))),
                ("update", lambda: rt.update(FAM, "name", "a", {"host": "x"})),
                ("update2", lambda: rt.update2(FAM, {"name": "a"}, {"host": "x"})),
                ("store", lambda: rt.store(FAM, {"name": "b"})),
                ("destroy", lambda: rt.destroy(FAM, "name", "a")),
            ]
            with s.outage("primary"):
                for op, call in calls:
                    if op not in ops:
                        continue
                    try:
                        result = call()
                    except BackendError:
                        continue
                    raise AssertionError(
                        f"{op} with the backend down returned {result!r}; it must raise "
                        "BackendError (a driver must never turn a failure into not-found)"
                    )
            _rest(ara_target)
            assert rt.load(FAM, name="a") == {"name": "a", "host": "h"}, "data lost after outage"

    @conformance("failover", ops=("store", "load", "load_multi"))
    def test_secondary_serves_while_the_primary_is_down(self, ara_target: Target) -> None:
        """With the priority-1 backend down, priority 2 answers reads and takes writes."""
        with _pair(ara_target) as s:
            _seed(s)
            assert s.rt.load(FAM, name="p") == {"name": "p", "host": "one"}
            with s.outage("primary"):
                assert s.rt.load(FAM, name="s") == {"name": "s", "host": "two"}
                assert s.rt.load(FAM, name="p") is None
                assert _names(s.rt.load_multi(FAM, ("name LIKE", "%"))) == ["s"]
                assert s.rt.store(FAM, {"name": "during"}) == 1
            assert s.direct("secondary").load(FAM, name="during") == {"name": "during"}

    @conformance("failover", ops=("store", "load", "load_multi", "update", "update2", "destroy"))
    def test_not_found_on_a_healthy_primary_never_reaches_the_secondary(
        self, ara_target: Target
    ) -> None:
        """Not found on priority 1 is the answer: priority 2 is not asked (Asterisk #1305).

        Usually broken by: raising ``BackendError`` (or any exception) for "no rows".
        """
        with _pair(ara_target) as s:
            _seed(s)
            rt = s.rt
            assert rt.load(FAM, name="s") is None, "the secondary answered a not-found"
            assert rt.load_multi(FAM, name="s") == []
            assert rt.update(FAM, "name", "s", {"host": "x"}) == 0
            assert rt.update2(FAM, {"name": "s"}, {"host": "x"}) == 0
            assert rt.destroy(FAM, "name", "s") == 0
            assert s.direct("secondary").load(FAM, name="s") == {"name": "s", "host": "two"}

    @conformance("failover", ops=("store", "load"))
    def test_primary_is_used_again_after_it_comes_back(self, ara_target: Target) -> None:
        """After the back-off period the recovered priority-1 backend serves again."""
        with _pair(ara_target) as s:
            _seed(s)
            with s.outage("primary"):
                assert s.rt.load(FAM, name="s") == {"name": "s", "host": "two"}
            _rest(ara_target)
            assert s.rt.load(FAM, name="p") == {"name": "p", "host": "one"}
            assert s.rt.load(FAM, name="s") is None

    @conformance("failover", ops=("store", "load"))
    def test_caller_mistake_never_fails_over(self, ara_target: Target) -> None:
        """A ``QueryError`` on priority 1 is raised, not retried on priority 2."""
        extra = {"secondary": {"extra": Requirement(RQ.CHAR, 10)}}
        with _pair(ara_target, extra_columns=extra) as s:
            assert s.direct("secondary").store(FAM, {"name": "s", "extra": "x"}) == 1
            with pytest.raises(QueryError):
                s.rt.load(FAM, extra="x")
            with pytest.raises(QueryError):
                s.rt.load(FAM, ("name LIKE", "x\\"))

    @conformance("failover", ops=("store", "load"))
    def test_writes_go_to_the_first_healthy_backend_only(self, ara_target: Target) -> None:
        """A write stops at the first backend that succeeds."""
        with _pair(ara_target) as s:
            assert s.rt.store(FAM, {"name": "w"}) == 1
            assert s.direct("primary").load(FAM, name="w") == {"name": "w"}
            assert s.direct("secondary").load(FAM, name="w") is None


# -- concurrency --------------------------------------------------------------------------

_THREADS = 4
_BUDGET = 60.0


def _run_threads(work: Callable[[int], None], threads: int = _THREADS) -> None:
    errors: list[tuple[int, BaseException]] = []
    start = threading.Barrier(threads)

    def run(n: int) -> None:
        try:
            start.wait(timeout=10)
            work(n)
        except BaseException as exc:
            errors.append((n, exc))

    pool = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(threads)]
    deadline = time.monotonic() + _BUDGET
    for t in pool:
        t.start()
    for t in pool:
        t.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in pool if t.is_alive()]
    assert not alive, f"threads still running after {_BUDGET:.0f}s (deadlock?): {alive}"
    if errors:
        n, exc = errors[0]
        raise AssertionError(f"thread {n} failed: {type(exc).__name__}: {exc}") from exc


_CONCURRENT_OPS: tuple[Operation, ...] = (
    "store",
    "load",
    "load_multi",
    "update",
    "update2",
    "destroy",
)


@register_standard
class ConcurrencyTests(ConformanceBase):
    """One ``Realtime`` shared by threads: no lost writes, exact counts, no deadlock."""

    @conformance("concurrency", ops=_CONCURRENT_OPS)
    def test_threads_on_disjoint_keys(self, ara: Session) -> None:
        """Each thread works on its own rows; every count and read is exact."""
        rt, per = ara.rt, 12

        def work(t: int) -> None:
            for i in range(per):
                name = f"t{t}-{i}"
                row = {"name": name, "host": f"h{t}", "port": str(i)}
                assert rt.store(FAM, row) == 1
                assert rt.load(FAM, name=name) == row, f"read-your-write failed for {name}"
                assert rt.update(FAM, "name", name, {"context": "c"}) == 1
                if i % 3 == 0:
                    assert rt.destroy(FAM, "name", name) == 1
            got = rt.load_multi(FAM, ("host", f"h{t}"), ("context", "c"))
            assert len(got) == per - len(range(0, per, 3)), f"thread {t}: {len(got)} rows"
            assert rt.update2(FAM, {"host": f"h{t}"}, {"secret": "s"}) == len(got)

        _run_threads(work)
        total = rt.load_multi(FAM, ("name LIKE", "t%"))
        assert len(total) == _THREADS * (per - len(range(0, per, 3))), "rows lost or duplicated"
        assert all(r.get("secret") == "s" and r.get("context") == "c" for r in total)

    @conformance("concurrency", ops=_CONCURRENT_OPS)
    def test_threads_on_shared_keys(self, ara: Session) -> None:
        """Threads update the same rows and insert rows with a shared value: nothing lost."""
        rt, shared, per = ara.rt, 5, 12
        for i in range(shared):
            rt.store(FAM, {"name": f"s{i}", "host": "shared"})

        def work(t: int) -> None:
            for i in range(per):
                assert rt.update(FAM, "host", "shared", {"context": f"t{t}"}) == shared
                assert rt.store(FAM, {"name": f"n{t}-{i}", "host": "common"}) == 1
                assert (
                    rt.update2(FAM, {"host": "common", "name": f"n{t}-{i}"}, {"port": str(i)}) == 1
                )
                assert len(rt.load_multi(FAM, ("host", "shared"))) == shared
                assert rt.destroy(FAM, "name", f"gone{t}-{i}") == 0

        _run_threads(work)
        common = rt.load_multi(FAM, ("host", "common"))
        assert len(common) == _THREADS * per, f"lost writes: {len(common)} of {_THREADS * per}"
        assert {(r["name"], r["port"]) for r in common} == {
            (f"n{t}-{i}", str(i)) for t in range(_THREADS) for i in range(per)
        }
        rows_shared = rt.load_multi(FAM, ("host", "shared"))
        assert len(rows_shared) == shared
        assert {r["context"] for r in rows_shared} <= {f"t{t}" for t in range(_THREADS)}


# -- capabilities -------------------------------------------------------------------------


def _try_operation(target: Target, op: str) -> Callable[[], object]:
    """A minimal call of ``op`` that must succeed on a driver declaring it."""

    def run() -> object:
        if op == "load_static":
            with _static_session(target) as s:
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
        like = _names(ara.rt.load_multi(FAM, ("name LIKE", "AL%")))
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


# -- the state machine --------------------------------------------------------------------


@register_standard
class StatefulTests(ConformanceBase):
    """Random operation sequences, driver against model."""

    @conformance("stateful", ops=("store", "load", "load_multi"))
    def test_random_operation_sequences(self, ara_target: Target) -> None:
        """Random stores, loads, updates and destroys agree with the model step by step
        (and with storage, through the back door where there is one)."""
        factory = cast("type[ConformanceMachine]", lambda: ConformanceMachine(ara_target))
        run_state_machine_as_test(factory, settings=_profiles.current(scale=1.0))


class ConformanceTests(
    ValuesTests,
    ConditionsTests,
    LikeTests,
    OrderingTests,
    WritesTests,
    ErrorsTests,
    RequireTests,
    StaticTests,
    CodecTests,
    FailoverTests,
    ConcurrencyTests,
    CapabilityTests,
    StatefulTests,
):
    """Every standard test: subclass it and give an ``ara_target`` fixture."""


# -- collected by name (``--pyargs ara_conformance.suite`` or a star import) ---------------


class TestValues(ValuesTests):
    pass


class TestConditions(ConditionsTests):
    pass


class TestLike(LikeTests):
    pass


class TestOrdering(OrderingTests):
    pass


class TestWrites(WritesTests):
    pass


class TestErrors(ErrorsTests):
    pass


class TestRequire(RequireTests):
    pass


class TestStatic(StaticTests):
    pass


class TestCodec(CodecTests):
    pass


class TestFailover(FailoverTests):
    pass


class TestConcurrency(ConcurrencyTests):
    pass


class TestCapabilities(CapabilityTests):
    pass


class TestStateful(StatefulTests):
    pass
