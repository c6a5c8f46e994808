"""Area ``ordering``: ``load_multi`` order and the comparison operators."""

from __future__ import annotations

import operator
from collections.abc import Callable

from hypothesis import strategies as st

from ara_realtime.datatypes import RQ, Requirement

from .._areas import conformance, register_standard
from .._base import ConformanceBase
from .._checks import check_load_multi
from .._profiles import examples
from .._strategies import rows, text_values
from .._tables import PEERS, TableSpec
from .._target import Session, Target
from ._common import FAM, model_for, row_names, store_all

__all__ = ["OrderingTests"]

_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "!=": operator.ne,
}


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
                model = model_for(ara_target)
                store_all(s, model, rowlist)
                check_load_multi(s.rt, FAM, model, [(column, "LIKE", "%")])
                check_load_multi(
                    s.rt, FAM, model, [(column, "NOT LIKE", "\\a%"), ("name", "LIKE", "%")]
                )

        check()

    @conformance("ordering", ops=("store", "load_multi"))
    def test_absent_values_sort_first(self, ara: Session) -> None:
        """Absent (NULL or empty) values come before every other value."""
        rows = [("c", "x", "7"), ("a", "z", "8"), ("b", "y", ""), ("d", "", None), ("e", None, "")]
        for name, context, lastms in rows:
            row = {"name": name, "context": context, "lastms": lastms}
            ara.rt.store(FAM, {k: v for k, v in row.items() if v is not None})
        got = [r.get("context", "") for r in ara.rt.load_multi(FAM, ("context LIKE", "%"))]
        assert got == ["", "", "x", "y", "z"], f"order by context: {got}"
        got = [r.get("lastms", "") for r in ara.rt.load_multi(FAM, ("lastms LIKE", "%"))]
        assert got == ["", "", "", "7", "8"], f"order by an integer column: {got}"
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
        got = [r["lastms"] for r in ara.rt.load_multi(FAM, ("lastms LIKE", "10%"))]
        assert got == ["10", "100"], f"LIKE on an integer column matches its digits: {got}"
        ara.rt.store(FAM, {"name": "none"})
        for op, compare in _COMPARE.items():
            got_names = set(
                row_names(ara.rt.load_multi(FAM, ("name LIKE", "p%"), (f"lastms {op}", "100")))
            )
            want = {f"p{i}" for i, v in enumerate(values) if compare(int(v), 100)}
            assert got_names == want, f"lastms {op} 100 selected {sorted(got_names)}"

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
        for name in ["b", "B", "é", "a", "Z", "🎉", "ab", "a b", "a;"]:
            ara.rt.store(FAM, {"name": name})
        got = row_names(ara.rt.load_multi(FAM, ("name LIKE", "%")))
        assert got == sorted(got) == ["B", "Z", "a", "a b", "a;", "ab", "b", "é", "🎉"], got
        below = row_names(ara.rt.load_multi(FAM, ("name <", "a<")))
        assert below == ["B", "Z", "a", "a b", "a;"], f'name < "a<" selected {below}'
        assert row_names(ara.rt.load_multi(FAM, ("name >", "Z"))) == [
            "a",
            "a b",
            "a;",
            "ab",
            "b",
            "é",
            "🎉",
        ]
        assert row_names(ara.rt.load_multi(FAM, ("name <=", "B"))) == ["B"]

    @conformance("ordering", ops=("store", "load_multi"))
    def test_comparisons_never_match_absent_values(self, ara: Session) -> None:
        """``< <= > >=`` never match an absent value (on text and integer columns)."""
        ara.rt.store(FAM, {"name": "with", "host": "m", "lastms": "5"})
        ara.rt.store(FAM, {"name": "without"})
        for field, value in [("host", "zzz"), ("host", "\U0010ffff"), ("lastms", "1000000")]:
            for op in ("<", "<="):
                got = row_names(ara.rt.load_multi(FAM, (f"{field} {op}", value)))
                assert got == ["with"], f"{field} {op} {value!r} matched {got}"
        for field, value in [("host", ""), ("lastms", "-1000000")]:
            for op in (">", ">="):
                if field == "host" and op == ">=":
                    continue
                got = row_names(ara.rt.load_multi(FAM, (f"{field} {op}", value)))
                assert got == ["with"], f"{field} {op} {value!r} matched {got}"

    @conformance("ordering", ops=("store", "load_multi"))
    def test_comparisons_agree_with_the_order(self, ara_target: Target) -> None:
        """``col < v`` selects exactly the rows that sort before ``v`` (any declared order)."""

        limit = ara_target.capabilities.max_value_length

        @examples(
            st.lists(
                text_values(20, empty=False, max_length=limit), min_size=1, max_size=6, unique=True
            )
        )
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
