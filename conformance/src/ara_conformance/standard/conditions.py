"""Area ``conditions``: every operator, on text and on integer columns."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st

from .._areas import conformance, register_standard
from .._base import ConformanceBase
from .._checks import check_load, check_load_multi
from .._profiles import examples
from .._strategies import OPERATORS, condition, rows
from .._tables import PEERS
from .._target import Session, Target
from ._common import FAM, INTEGER, TEXT, model_for, row_names, store_all

__all__ = ["ConditionsTests"]


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
            model = model_for(target)
            store_all(s, model, rowlist)
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
                model = model_for(ara_target)
                store_all(s, model, rowlist)
                check_load_multi(s.rt, FAM, model, conds)

        check()

    @conformance("conditions", ops=("store", "load", "load_multi"))
    def test_every_condition_applies_and_not_equal_matches_absent(self, ara: Session) -> None:
        """Every condition of a call must hold (AND), on text and integer columns alike, and
        ``!=`` matches rows where the column is absent, on integer columns too.

        Usually broken by: applying the first condition only; SQL's ``col <> v``, which is
        never true for NULL (the driver must add ``OR col IS NULL``).
        """
        rows = [
            {"name": "a", "host": "h", "port": "5060", "lastms": "10"},
            {"name": "b", "host": "h", "port": "5061"},
            {"name": "c", "host": "h", "lastms": "20"},
            {"name": "d", "host": "other", "port": "5060"},
        ]
        for row in rows:
            ara.rt.store(FAM, row)

        def names(*conds: tuple[str, str]) -> list[str]:
            return sorted(row_names(ara.rt.load_multi(FAM, *conds)))

        anded, absent = "conditions must be ANDed", "!= must match absent values (integer column)"
        assert names(("host", "h"), ("port", "5060")) == ["a"], anded
        assert names(("port", "5060"), ("host", "h")) == ["a"], anded
        assert names(("host", "h"), ("name !=", "b")) == ["a", "c"], anded
        assert names(("host", "h"), ("port !=", "5060"), ("name !=", "b")) == ["c"], absent
        assert names(("lastms !=", "10")) == ["b", "c", "d"], absent
        assert names(("port !=", "5061"), ("lastms !=", "20")) == ["a", "d"], absent
        assert names(("host", "h"), ("lastms >", "5"), ("port LIKE", "50%")) == ["a"], anded
        assert ara.rt.load(FAM, ("host", "h"), ("port", "5061")) == rows[1]
        assert ara.rt.load(FAM, ("host", "other"), ("lastms !=", "10")) == rows[3]
        assert ara.rt.load(FAM, ("host", "h"), ("name", "d")) is None

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
            return sorted(row_names(ara.rt.load_multi(FAM, (f"regseconds {op}", str(value)))))

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
        """``*``, ``%``, ``_``, ``\\``, ``^`` and ``;`` are plain characters for ``=`` and ``!=``.

        Usually broken by: LDAP filters that keep ``*``; SQL drivers that use LIKE for ``=``;
        the ``^XX`` codec applied to a stored value but not to the value looked up.
        """
        literals = {"b": "*", "c": "%", "d": "_", "e": "\\", "f": "^", "g": ";"}
        for name, host in [("a", "other"), *literals.items()]:
            ara.rt.store(FAM, {"name": name, "host": host})
        for name, literal in literals.items():
            got = [r["name"] for r in ara.rt.load_multi(FAM, ("host", literal))]
            assert got == [name], f"host = {literal!r} matched {got}; it is a literal"
            assert ara.rt.load(FAM, host=literal) == {"name": name, "host": literal}
            others = sorted(r["name"] for r in ara.rt.load_multi(FAM, ("host !=", literal)))
            assert others == sorted({"a", *literals} - {name}), f"host != {literal!r}: {others}"

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
        assert ara.rt.load_multi(FAM, ("name LIKE", "a%")) == [], "LIKE ignored letter case"
        assert row_names(ara.rt.load_multi(FAM, ("name !=", "alice"))) == ["Alice"], (
            "!= ignored letter case"
        )
        assert ara.rt.load(FAM, name="Alice") == {"name": "Alice"}

    @conformance(
        "conditions",
        ops=("store", "load", "update", "update2", "destroy"),
        when=lambda caps: not caps.case_insensitive,
        label="exact matching (case_insensitive=False)",
    )
    def test_writes_match_keys_exactly(self, ara: Session) -> None:
        """``update``, ``update2`` and ``destroy`` find rows by exact keys, as ``load`` does.

        Usually broken by: writes built by other code than reads (a collation or a LIKE in
        the ``WHERE`` of writes only).
        """
        ara.rt.store(FAM, {"name": "Alice", "host": "h"})
        for key in ("ALICE", "alice", "Alice ", " Alice"):
            assert ara.rt.update(FAM, "name", key, {"host": "x"}) == 0, f"update matched {key!r}"
            assert ara.rt.update2(FAM, {"name": key}, {"host": "x"}) == 0, f"update2: {key!r}"
            assert ara.rt.destroy(FAM, "name", key) == 0, f"destroy matched {key!r}"
        assert ara.rt.load(FAM, name="Alice") == {"name": "Alice", "host": "h"}

    @conformance("conditions", ops=("store", "load", "load_multi"))
    def test_trailing_spaces_are_part_of_the_value(self, ara: Session) -> None:
        """A stored trailing space counts: ``"bob "`` is not ``"bob"``, for ``=``, ``!=``, LIKE.

        Usually broken by: MySQL's PAD SPACE collations (``'bob' = 'bob '`` is true there);
        ``CHAR`` columns, which pad every value.
        """
        ara.rt.store(FAM, {"name": "bob "})
        ara.rt.store(FAM, {"name": "bob"})
        assert ara.rt.load(FAM, name="bob ") == {"name": "bob "}
        assert ara.rt.load(FAM, name="bob") == {"name": "bob"}
        assert row_names(ara.rt.load_multi(FAM, ("name", "bob"))) == ["bob"]
        assert row_names(ara.rt.load_multi(FAM, ("name", "bob "))) == ["bob "]
        assert row_names(ara.rt.load_multi(FAM, ("name !=", "bob"))) == ["bob "]
        assert row_names(ara.rt.load_multi(FAM, ("name LIKE", "bob"))) == ["bob"]
        assert row_names(ara.rt.load_multi(FAM, ("name LIKE", "bob_"))) == ["bob "]

    @conformance("conditions", ops=("store", "load"))
    def test_mapping_and_keyword_conditions(self, ara: Session) -> None:
        """Conditions given as a mapping and as keywords mean the same as pairs."""
        ara.rt.store(FAM, {"name": "a", "host": "h", "context": "c"})
        assert ara.rt.load(FAM, {"name": "a", "host": "h"}, context="c") is not None
        assert ara.rt.load(FAM, {"name": "a", "host": "h"}, context="d") is None
        assert ara.rt.load(FAM, {"name": "a", "host LIKE": "%"}) is not None
