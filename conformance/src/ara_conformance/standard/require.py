"""Area ``require``: ``require``, ``unload``, and tables with Asterisk's column names."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from ara_realtime import QueryError
from ara_realtime.datatypes import RQ, Requirement

from .._areas import conformance, register_standard
from .._base import ConformanceBase
from .._checks import check_load, check_load_multi
from .._profiles import examples
from .._strategies import text_values
from .._tables import ASTERISK_COLUMNS, PEERS, TableSpec
from .._target import Session, Target
from ._common import FAM, model_for, row_names, value_limit

__all__ = ["RequireTests"]


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

    @conformance(
        "require",
        ops=("require", "store", "load", "update"),
        when=lambda caps: caps.require_create,
        label="require_create=True",
    )
    def test_columns_added_later_are_seen_by_cached_statements(self, ara: Session) -> None:
        """A column ``require`` adds to a table already in use is usable at once, by reads and
        writes whose statements or table metadata were cached before.

        Usually broken by: a statement or column cache that ``require`` does not invalidate.
        """
        ara.rt.store(FAM, {"name": "a", "host": "h"})
        for _ in range(2):  # the second time through any statement cache
            assert ara.rt.load(FAM, ("name", "a")) == {"name": "a", "host": "h"}
            assert ara.rt.update(FAM, "name", "a", {"host": "h"}) == 1
        assert ara.rt.require(FAM, {"regserver": ("char", 20)})
        assert ara.rt.update(FAM, "name", "a", {"regserver": "pbx1"}) == 1
        assert ara.rt.load(FAM, ("name", "a")) == {"name": "a", "host": "h", "regserver": "pbx1"}

    @conformance("require", ops=("store", "load", "load_multi", "update", "update2", "destroy"))
    def test_asterisk_column_names_in_every_operation(self, ara: Session) -> None:
        """Columns named ``session-timers``, ``100rel``, ``@body``, ``event_asterisk-mwi`` work as
        keys, conditions and values of every operation.

        Usually broken by: column names not quoted in one statement kind only (Asterisk's
        pgsql driver quoted them in store and destroy alone).
        """
        rt = ara.rt
        row = {"name": "a", "100rel": "yes", "@body": "x;y", "session-timers": "accept"}
        assert rt.store(FAM, row) == 1
        assert rt.load(FAM, ("session-timers", "accept"), ("100rel", "yes")) == row
        assert rt.update(FAM, "@body", "x;y", {"event_asterisk-mwi": "m"}) == 1
        assert rt.update2(FAM, {"@body": "x;y", "event_asterisk-mwi": "m"}, {"100rel": "no"}) == 1
        assert [r["name"] for r in rt.load_multi(FAM, ("@body LIKE", "x;%"))] == ["a"]
        assert rt.load(FAM, name="a") == {
            **row,
            "100rel": "no",
            "event_asterisk-mwi": "m",
        }
        assert rt.destroy(FAM, "session-timers", "accept", ("100rel", "yes")) == 0
        assert rt.destroy(FAM, "session-timers", "accept", ("100rel", "no")) == 1
        assert rt.load_multi(FAM, ("name LIKE", "%")) == []

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
                c: data.draw(text_values(value_limit(ara_target, spec.size(c)), empty=False))
                for c in columns
            }
            key = "id" if creates else "name"
            with ara_target.open({FAM: spec}) as s:
                model = model_for(ara_target, spec)
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
        """``unload`` drops cached metadata only: rows stay, the table is read again. It says
        whether it dropped anything: right after an ``unload`` there is nothing left to drop."""
        ara.rt.store(FAM, {"name": "a"})
        assert isinstance(ara.rt.unload(FAM), bool)
        assert ara.rt.unload(FAM) is False, "a second unload in a row dropped something again"
        assert ara.rt.load(FAM, name="a") == {"name": "a"}
        ara.rt.unload(FAM)
        ara.rt.store(FAM, {"name": "b"})
        assert ara.rt.load(FAM, name="b") == {"name": "b"}

    @conformance("require", ops=("require", "store", "load"))
    def test_require_without_a_create_mode_only_checks(self, ara: Session) -> None:
        """Without ``requirements = createclose|createchar`` (Asterisk's default, ``warn``),
        ``require`` creates nothing: it returns ``False`` for a column the table lacks, which
        stays unknown, and ``True`` for columns the table has.

        Usually broken by: creating columns in every mode, or returning ``True`` whatever
        was asked.
        """
        plain = ara.without_create()
        assert plain.require(FAM, {"useragent": ("char", 255)}) is False, (
            "require returned True for a column the table lacks, outside a create mode"
        )
        assert plain.require(FAM, {"name": ("char", 40), "useragent": ("char", 80)}) is False
        with pytest.raises(QueryError):
            plain.store(FAM, {"name": "a", "useragent": "x"})
        assert plain.require(FAM, {"name": ("char", 40), "port": ("uinteger2", 5)}) is True
        assert plain.store(FAM, {"name": "b"}) == 1
        assert plain.load(FAM, name="b") == {"name": "b"}

    @conformance("require", ops=("unload", "store", "load", "load_multi"), backdoor="write")
    def test_unload_drops_cached_rows(self, ara: Session) -> None:
        """After ``unload`` the driver reads storage again: a row written by another program
        meanwhile is seen (load, change behind the driver's back, unload, load again).

        Usually broken by: a row cache that ``unload`` does not clear.
        """
        rt = ara.rt
        rt.store(FAM, {"name": "a", "host": "h"})
        assert rt.load(FAM, name="a") == {"name": "a", "host": "h"}
        assert rt.load(FAM, name="b") is None
        assert row_names(rt.load_multi(FAM, ("host", "h"))) == ["a"]
        ara.write_raw(FAM, {"name": "b", "host": "h"})
        rt.unload(FAM)
        assert rt.load(FAM, name="b") == {"name": "b", "host": "h"}, (
            "after unload, a row written behind the driver's back is still not seen"
        )
        assert sorted(row_names(rt.load_multi(FAM, ("host", "h")))) == ["a", "b"]

    @conformance("require", ops=("require",))
    def test_unknown_requirement_type_is_a_query_error(self, ara: Session) -> None:
        """A requirement type that is not an ``RQ`` name is refused."""
        with pytest.raises(QueryError, match="unknown requirement type"):
            ara.rt.require(FAM, {"x": ("varchar", 3)})
