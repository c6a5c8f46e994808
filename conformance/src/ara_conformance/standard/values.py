"""Area ``values``: values round-trip exactly; NULL and ``""`` are one."""

from __future__ import annotations

from hypothesis import strategies as st

from .._areas import conformance, register_standard
from .._base import ConformanceBase
from .._checks import check_load
from .._profiles import examples
from .._strategies import HOSTILE, integer_values, rows, text_values
from .._tables import PEERS
from .._target import Session, Target
from ._common import FAM, INTEGER, TEXT, model_for, store_all, value_limit

__all__ = ["ValuesTests"]

#: Values made of several hostile parts (the old per-driver contract tests used these).
_COMPOSITE = (
    "  leading and trailing  ",
    "semi;colon",
    "caret^5E^",
    'it\'s "quoted"',
    "100% _under_ *star* (paren)",
    "ünïcödé ✓ 電話 🎉",
)


@register_standard
class ValuesTests(ConformanceBase):
    """Values round-trip exactly; NULL and ``""`` are one."""

    @conformance("values", ops=("store", "load", "load_multi"))
    def test_hostile_values_round_trip(self, ara_target: Target) -> None:
        """Any value but NUL comes back exactly, and finds its row by ``=``.

        Usually broken by: values pasted into SQL/filters unescaped; trimming; the ``^XX``
        codec applied on one side only; a driver-side charset that is not UTF-8.
        """
        size = value_limit(ara_target, PEERS.size("secret"))

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

    @conformance("values", ops=("store", "load", "load_multi", "update"))
    def test_hostile_values_in_updates(self, ara_target: Target) -> None:
        """A hostile value works as the key of an ``update`` and as the value it writes.

        Usually broken by: the key or the new value pasted into SQL unescaped, or encoded
        (``^XX``) on one side only.
        """
        size = value_limit(ara_target, min(PEERS.size("host"), PEERS.size("context")))
        explicit = [v for v in (*HOSTILE, *_COMPOSITE) if len(v) <= size]

        @examples(text_values(size, empty=False), explicit=[(v,) for v in explicit])
        def check(value: str) -> None:
            with ara_target.open({FAM: PEERS}) as s:
                assert s.rt.store(FAM, {"name": "v", "context": value}) == 1
                assert s.rt.update(FAM, "context", value, {"host": value}) == 1, (
                    f"update keyed on context = {value!r} matched no row"
                )
                want = {"name": "v", "host": value, "context": value}
                assert s.rt.load(FAM, ("host", value)) == want
                assert s.rt.load_multi(FAM, ("context LIKE", "%")) == [want]

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
                model = model_for(ara_target)
                store_all(s, model, [row])
                check_load(s.rt, FAM, model, [("name", "=", "every")])

        check()

    @conformance("values", ops=("store", "load"))
    def test_long_values_up_to_the_column_size(self, ara_target: Target, ara: Session) -> None:
        """A value as long as the column allows, made of hostile characters, round-trips."""
        model = model_for(ara_target)
        for column in TEXT:
            size = value_limit(ara_target, PEERS.size(column))
            value = ("';\\%_^ é漢🎉" * size)[:size]
            row = {"name": f"long-{column}"[:40]} if column != "name" else {}
            row[column] = value
            store_all(ara, model, [row])
            check_load(ara.rt, FAM, model, [(column, "=", value)])

    @conformance("values", ops=("store", "load"))
    def test_integer_values_round_trip(self, ara_target: Target) -> None:
        """Integers across each integer type's whole range round-trip as canonical text."""

        @examples(st.fixed_dictionaries({c: integer_values(PEERS.columns[c]) for c in INTEGER}))
        def check(values: dict[str, str]) -> None:
            with ara_target.open({FAM: PEERS}) as s:
                model = model_for(ara_target)
                store_all(s, model, [{"name": "n", **values}])
                check_load(s.rt, FAM, model, [("name", "=", "n")])
                for column, value in values.items():
                    check_load(s.rt, FAM, model, [(column, "=", value)])

        check()

    @conformance("values", ops=("store", "load"))
    def test_rows_follow_column_order_without_empty_columns(self, ara: Session) -> None:
        """Rows list columns in table order and leave NULL/empty columns out."""
        row = {"port": "5060", "secret": "s", "name": "bob", "host": "", "context": "c"}
        assert ara.rt.store(FAM, row) == 1
        got = ara.rt.load(FAM, name="bob")
        assert got is not None
        want = [("name", "bob"), ("secret", "s"), ("context", "c"), ("port", "5060")]
        assert list(got.items()) == want, (
            f"got {got!r}: columns must follow table order and empty ones must be left out"
        )

    @conformance("values", ops=("store", "load_multi", "update"))
    def test_null_and_empty_are_the_same(self, ara: Session) -> None:
        """``""`` and NULL are one value: never returned, matched by ``= ""``.

        Usually broken by: returning ``""`` columns; ``= ""`` matching only empty strings
        (or only NULL); ``!= v`` not matching absent values; a collation that pads with
        spaces (MySQL's PAD SPACE: ``" " = ""``).
        """
        rt = ara.rt
        for name, host in [("a", "dynamic"), ("b", ""), ("c", None), ("d", " ")]:
            rt.store(FAM, {"name": name} if host is None else {"name": name, "host": host})
        assert rt.update(FAM, "name", "a", {"context": ""}) == 1

        def names(*conds: tuple[str, str]) -> list[str]:
            return sorted(r["name"] for r in rt.load_multi(FAM, *conds))

        assert names(("host", "")) == ["b", "c"], '= "" must match NULL and empty (not " ")'
        assert names(("host !=", "")) == ["a", "d"], '!= "" must match non-empty only'
        assert names(("host !=", "dynamic")) == ["b", "c", "d"], "!= v must match absent too"
        assert names(("host LIKE", "%")) == ["a", "b", "c", "d"], "LIKE treats absent as empty"
        assert names(("host NOT LIKE", "d%")) == ["b", "c", "d"]
        assert names(("host NOT LIKE", "%")) == []
        assert names(("context", "")) == ["a", "b", "c", "d"]
        assert names(("port", "")) == ["a", "b", "c", "d"], '= "" on an integer column'
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
                model = model_for(ara_target)
                store_all(s, model, rowlist)
                stored = s.stored(FAM)
                assert model.same_rows(stored, model.rows), (
                    f"storage holds {stored!r}, expected {model.rows!r}"
                )

        check()
