"""The shared statement builder (``ara_realtime.sql.statements``): dialect spellings, caches."""

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


def test_point_update_cache_gives_what_the_full_path_gives() -> None:
    info = TableInfo(
        name="peers",
        columns=("name", "host"),
        text=frozenset({"name", "host"}),
        nullable=frozenset({"host"}),
    )
    fast = Statements(Dialect(quote=_bracket), codec=True)
    cases = [
        ((Condition("name", "=", "a"),), (("host", "h1"),)),
        ((Condition("name", "=", "b"),), (("host", "h2"),)),  # served by the point cache
        ((Condition("name", "=", "c"),), (("host", ""),)),  # empty: NULL, the full path
        ((Condition("name", "=", "d;"),), (("host", "x^y"),)),  # encoded values
        ((Condition("name", "=", "e"),), (("host", "h3"),)),
    ]
    for conds, values in cases:
        full = Statements(Dialect(quote=_bracket), codec=True)  # never cached
        assert fast.update(info, conds, values, "f") == full.update(info, conds, values, "f")
    assert fast.update(info, (Condition("name", "=", "c"),), (("host", ""),), "f")[1] == [
        None,
        "c",
    ]
    assert ("peers", "name", "host") in fast._point_update
    fast.clear("peers")
    assert not fast._point_update
