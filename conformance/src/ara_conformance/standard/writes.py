"""Area ``writes``: ``store``, ``update``, ``update2``, ``destroy`` and their counts."""

from __future__ import annotations

import sqlite3
from types import MappingProxyType
from typing import Any

import pytest

from ara_realtime import QueryError

from .._areas import conformance, register_standard
from .._base import ConformanceBase
from .._target import Session
from ._common import FAM

__all__ = ["WritesTests"]


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

    @conformance("writes", ops=("store", "update"), backdoor="read")
    def test_writing_empty_stores_null(self, ara: Session) -> None:
        """``""`` is stored as NULL (or not at all), never as an empty string or a space.

        Usually broken by: binding ``""`` as is (Asterisk and other programs reading the
        table then see an empty value where the contract has none).
        """
        ara.rt.store(FAM, {"name": "a", "host": "dynamic", "port": "5060", "context": ""})
        assert ara.rt.update(FAM, "name", "a", {"host": "", "port": ""}) == 1
        (raw,) = ara.raw(FAM)
        stored = {c: raw.get(c) for c in ("host", "port", "context")}
        assert stored == dict.fromkeys(stored), f"storage holds {stored!r} for the empty values"

    @conformance("writes", ops=("store", "update", "load", "load_multi"))
    def test_write_columns_come_from_a_mapping_never_a_sequence(self, ara: Session) -> None:
        """The columns of a write are any mapping (``{**m}`` works: ``sqlite3.Row``,
        ``MappingProxyType``) plus keywords, which win; a list is refused, never read as pairs.
        """
        db = sqlite3.connect(":memory:")
        try:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT 'zz' AS name, 'ab' AS host").fetchone()
        finally:
            db.close()
        rt = ara.rt
        assert rt.store(FAM, row) == 1
        assert rt.load(FAM, name="zz") == {"name": "zz", "host": "ab"}
        assert rt.update(FAM, "name", "zz", MappingProxyType({"host": "cd"})) == 1
        fields = {"host": "ef"}
        assert rt.update(FAM, "name", "zz", fields, host="gh") == 1
        assert fields == {"host": "ef"}, "the caller's mapping was changed"
        assert rt.load(FAM, name="zz") == {"name": "zz", "host": "gh"}
        sequences: list[Any] = [["ab", "cd"], [("name", "x")]]
        for bad in sequences:
            with pytest.raises(QueryError, match="must be a mapping, not list"):
                rt.store(FAM, bad)
            with pytest.raises(QueryError, match="must be a mapping, not list"):
                rt.update(FAM, "name", "zz", bad)
        assert rt.load_multi(FAM, ("name LIKE", "%")) == [{"name": "zz", "host": "gh"}]

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
