"""Dialect spellings the shared statement builder applies (``ara_realtime.sql.statements``)."""

from __future__ import annotations

from ara_realtime.conditions import Condition
from ara_realtime.sql import Dialect, Statements, TableInfo


def _bracket(name: str) -> str:
    return "[" + name.replace("]", "]]") + "]"


INFO = TableInfo(name="peers", columns=("name", "host"), text=frozenset({"name", "host"}))


def test_top_one_goes_after_select_in_single_row_selects_only() -> None:
    st = Statements(Dialect(quote=_bracket, limit_one="", top_one="TOP 1 "))
    one, params = st.select(INFO, (Condition("name", "=", "a"),), "f", multi=False)
    assert one == "SELECT TOP 1 * FROM [peers] WHERE [name] = ?"
    assert params == ["a"]
    # the cached point statement keeps it
    assert st.select(INFO, (Condition("name", "=", "b"),), "f", multi=False)[0] == one
    multi, _ = st.select(INFO, (Condition("host", "=", "h"),), "f", multi=True)
    assert multi == "SELECT * FROM [peers] WHERE [host] = ? ORDER BY [host]"


def test_default_dialect_has_no_top_clause() -> None:
    st = Statements(Dialect(quote=_bracket))
    one, _ = st.select(INFO, (Condition("name", "=", "a"),), "f", multi=False)
    assert one == "SELECT * FROM [peers] WHERE [name] = ? LIMIT 1"
