"""The contract's rules as tests for any SQL driver, on a real server.

A driver's test module imports these tests (``from ara_testservers.sqlcontract import *``) and
provides two fixtures:

``rt``
    a ``Realtime`` mapping family ``peers`` to a new, empty table with :data:`PEER_COLUMNS`
    (made through ``require`` in ``createclose`` mode) and ``ast.conf`` to a static table;
``raw``
    ``raw(sql) -> list[tuple]``: runs SQL on the same database without the driver (the back
    door, to check the stored form); the table of ``peers`` is spelled ``{peers}`` in ``sql``.

Until the ``ara-conformance`` suite covers a driver, these are its contract tests.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ara_realtime import Config, QueryError, Realtime

__all__ = [
    "HOSTILE",
    "PEER_COLUMNS",
    "STATIC_COLUMNS",
    "Raw",
    "test_asterisk_column_names_work",
    "test_at_least_one_condition",
    "test_counts",
    "test_equality_is_case_and_space_sensitive",
    "test_failed_write_changes_nothing",
    "test_like",
    "test_like_trailing_escape_is_an_error",
    "test_load_multi_orders_by_first_condition",
    "test_load_returns_one_row_never_a_merge",
    "test_nul_is_rejected_before_io",
    "test_null_and_empty_are_the_same",
    "test_numeric_comparison_on_integer_columns",
    "test_operators_are_checked",
    "test_require_and_unload",
    "test_row_is_in_table_column_order_without_empty_columns",
    "test_static_config_order_and_include",
    "test_text_comparison_is_by_code_point",
    "test_unknown_column_names_family_table_and_column",
    "test_values_are_stored_in_asterisk_form",
    "test_values_round_trip_exactly",
    "test_wildcards_are_literal_without_like",
    "test_writing_empty_stores_null",
]

#: ``raw(sql)`` runs SQL beside the driver; ``{peers}`` is the quoted table of family peers.
Raw = Callable[[str], list[tuple[Any, ...]]]

PEER_COLUMNS = {
    "name": ("char", 40),
    "host": ("char", 40),
    "secret": ("char", 40),
    "context": ("char", 40),
    "port": ("integer4", 11),
    "lastms": ("integer4", 11),
    "session-timers": ("char", 9),
    "100rel": ("char", 10),
    "@body": ("char", 40),
}

STATIC_COLUMNS = {
    "filename": ("char", 128),
    "category": ("char", 128),
    "var_name": ("char", 128),
    "var_val": ("char", 255),
    "cat_metric": ("integer4", 11),
    "var_metric": ("integer4", 11),
    "commented": ("integer1", 4),
}

HOSTILE = [
    "  leading and trailing  ",
    "semi;colon",
    "caret^5E^",
    "^3B",
    "back\\slash",
    'it\'s "quoted"',
    "100% _under_ *star* (paren)",
    "ünïcödé ✓ 電話 🎉",
    "tab\there",
    "line\nbreak",
    "' OR '1'='1",
]


def _store(rt: Realtime, **values: str) -> None:
    assert rt.store("peers", values) == 1


def _names(rows: list[dict[str, str]]) -> list[str]:
    return [r["name"] for r in rows]


@pytest.mark.parametrize("value", HOSTILE)
def test_values_round_trip_exactly(rt: Realtime, value: str) -> None:
    _store(rt, name="alice", secret=value)
    assert rt.load("peers", name="alice") == {"name": "alice", "secret": value}
    assert rt.load("peers", secret=value) == {"name": "alice", "secret": value}
    assert rt.update("peers", "secret", value, {"context": value}) == 1
    assert rt.load("peers", ("context", value))["context"] == value  # type: ignore[index]
    assert _names(rt.load_multi("peers", ("secret LIKE", "%"))) == ["alice"]


def test_values_are_stored_in_asterisk_form(rt: Realtime, raw: Raw) -> None:
    _store(rt, name="a", secret="x;y^z")
    assert raw("SELECT secret FROM {peers}") == [("x^3By^5Ez",)]
    assert rt.load("peers", ("secret LIKE", "x;_^z")) == {"name": "a", "secret": "x;y^z"}
    assert rt.load("peers", ("secret LIKE", "x_y%")) == {"name": "a", "secret": "x;y^z"}
    assert rt.load("peers", ("secret LIKE", "%3B%")) is None


def test_row_is_in_table_column_order_without_empty_columns(rt: Realtime) -> None:
    _store(rt, secret="s", name="bob", host="", context="internal", port="5060")
    row = rt.load("peers", name="bob")
    assert list(row.items()) == [  # type: ignore[union-attr]
        ("name", "bob"),
        ("secret", "s"),
        ("context", "internal"),
        ("port", "5060"),
    ]


def test_nul_is_rejected_before_io(rt: Realtime) -> None:
    with pytest.raises(ValueError, match="NUL"):
        rt.store("peers", {"name": "x\x00y"})
    with pytest.raises(QueryError, match="NUL"):
        rt.load("peers", name="\x00")


def test_null_and_empty_are_the_same(rt: Realtime) -> None:
    _store(rt, name="a", host="dynamic")
    _store(rt, name="b", host="")
    _store(rt, name="c")
    _store(rt, name="d", host=" ")
    assert sorted(_names(rt.load_multi("peers", ("host", "")))) == ["b", "c"]
    assert _names(rt.load_multi("peers", ("host !=", ""))) == ["d", "a"]
    got = _names(rt.load_multi("peers", ("host !=", "dynamic")))
    assert sorted(got[:2]) == ["b", "c"] and got[2:] == ["d"]
    got = _names(rt.load_multi("peers", ("host LIKE", "%")))
    assert sorted(got[:2]) == ["b", "c"] and got[2:] == ["d", "a"]  # absent first
    assert _names(rt.load_multi("peers", ("host NOT LIKE", "d%"))) == ["b", "c", "d"]
    assert rt.load_multi("peers", ("host NOT LIKE", "%")) == []
    assert _names(rt.load_multi("peers", ("host >", ""))) == ["d", "a"]
    assert _names(rt.load_multi("peers", ("name LIKE", "%"), ("port", ""))) == ["a", "b", "c", "d"]


def test_writing_empty_stores_null(rt: Realtime, raw: Raw) -> None:
    _store(rt, name="a", host="dynamic", port="5")
    assert rt.update("peers", "name", "a", {"host": "", "port": ""}) == 1
    assert rt.load("peers", name="a") == {"name": "a"}
    assert raw("SELECT host, port FROM {peers}") == [(None, None)]


@pytest.mark.parametrize("literal", ["*", "%", "_", "\\", "^", ";"])
def test_wildcards_are_literal_without_like(rt: Realtime, literal: str) -> None:
    _store(rt, name="a", host="other")
    _store(rt, name="b", host=literal)
    assert _names(rt.load_multi("peers", ("host", literal))) == ["b"]
    assert rt.load("peers", host=literal) == {"name": "b", "host": literal}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("al%", ["al", "al_ice", "alice"]),
        ("al_ce", ["alice"]),
        ("al\\_%", ["al_ice"]),
        ("%\\%%", ["50%off"]),
        ("%e", ["alice", "al_ice"]),
        ("AL%", []),
        ("_", []),
        ("__", ["al"]),
        ("back\\\\slash", ["back\\slash"]),
        ("a;_", ["a;b"]),
        ("a__", ["a;b"]),
    ],
)
def test_like(rt: Realtime, pattern: str, expected: list[str]) -> None:
    everything = ["alice", "al_ice", "al", "50%off", "back\\slash", "a;b"]
    for name in everything:
        _store(rt, name=name)
    got = sorted(_names(rt.load_multi("peers", ("name LIKE", pattern))))
    assert got == sorted(expected)
    not_like = set(_names(rt.load_multi("peers", ("name NOT LIKE", pattern))))
    assert not_like == set(everything) - set(expected)


def test_like_trailing_escape_is_an_error(rt: Realtime) -> None:
    with pytest.raises(QueryError, match="escaping backslash"):
        rt.load("peers", ("name LIKE", "abc\\"))


def test_equality_is_case_and_space_sensitive(rt: Realtime) -> None:
    _store(rt, name="Alice")
    _store(rt, name="bob ")
    assert rt.load("peers", name="alice") is None
    assert rt.load("peers", name="Alice ") is None
    assert rt.load("peers", name="Alice") == {"name": "Alice"}
    assert rt.load("peers", name="bob") is None
    assert rt.load("peers", name="bob ") == {"name": "bob "}
    assert _names(rt.load_multi("peers", ("name !=", "alice"))) == ["Alice", "bob "]
    assert rt.load("peers", ("name LIKE", "a%")) is None
    assert rt.update("peers", "name", "ALICE", {"host": "x"}) == 0


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "=", "!="])
def test_numeric_comparison_on_integer_columns(rt: Realtime, op: str) -> None:
    for i, port in enumerate(["9", "10", "100", "5060"]):
        _store(rt, name=f"p{i}", port=port)
    _store(rt, name="none")
    fn = {
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
        "=": operator.eq,
        "!=": operator.ne,
    }[op]
    got = set(_names(rt.load_multi("peers", ("name LIKE", "p%"), (f"port {op}", "100"))))
    assert got == {f"p{i}" for i, p in enumerate([9, 10, 100, 5060]) if fn(p, 100)}
    assert _names(rt.load_multi("peers", ("port LIKE", "10%"))) == ["p1", "p2"]


def test_text_comparison_is_by_code_point(rt: Realtime) -> None:
    for name in ["B", "a", "b", "Z", "é", "a;"]:
        _store(rt, name=name)
    assert _names(rt.load_multi("peers", ("name >", "Z"))) == ["a", "a;", "b", "é"]
    assert _names(rt.load_multi("peers", ("name <=", "B"))) == ["B"]
    assert _names(rt.load_multi("peers", ("name <", "a<"))) == ["B", "Z", "a", "a;"]


def test_operators_are_checked(rt: Realtime) -> None:
    _store(rt, name="alice")
    assert rt.load("peers", ("name like", "ali%")) == {"name": "alice"}
    assert rt.load("peers", ("name  not   like", "x%")) == {"name": "alice"}
    for bad in ["name IS", "name REGEXP", "name = 1 OR 1", "name LIKE;"]:
        with pytest.raises(QueryError, match="unknown operator"):
            rt.load("peers", (bad, "x"))
    with pytest.raises(QueryError, match="invalid column name"):
        rt.load("peers", ("name;", "x"))


def test_unknown_column_names_family_table_and_column(rt: Realtime) -> None:
    _store(rt, name="alice")
    for call in (
        lambda: rt.load("peers", nosuch="x"),
        lambda: rt.load_multi("peers", ("nosuch LIKE", "%")),
        lambda: rt.update("peers", "name", "alice", {"nosuch": "1"}),
        lambda: rt.update2("peers", {"nosuch": "1"}, {"host": "x"}),
        lambda: rt.store("peers", {"name": "b", "nosuch": "1"}),
        lambda: rt.destroy("peers", "nosuch", "x"),
    ):
        with pytest.raises(QueryError) as info:
            call()
        assert (info.value.family, info.value.field) == ("peers", "nosuch")
        assert "nosuch" in str(info.value)
    assert rt.load("peers", name="alice") == {"name": "alice"}


def test_asterisk_column_names_work(rt: Realtime) -> None:
    _store(rt, name="a", **{"session-timers": "accept", "100rel": "yes", "@body": "x;y"})
    row = rt.load("peers", ("session-timers", "accept"), ("100rel", "yes"))
    assert row == {"name": "a", "session-timers": "accept", "100rel": "yes", "@body": "x;y"}
    assert rt.update2("peers", {"@body": "x;y"}, {"100rel": "no"}) == 1
    assert _names(rt.load_multi("peers", ("@body LIKE", "x;%"))) == ["a"]
    assert rt.destroy("peers", "session-timers", "accept", ("100rel", "no")) == 1


def test_load_returns_one_row_never_a_merge(rt: Realtime) -> None:
    _store(rt, name="a", host="h", secret="1")
    _store(rt, name="b", host="h", context="c")
    assert rt.load("peers", host="h") in (
        {"name": "a", "host": "h", "secret": "1"},
        {"name": "b", "host": "h", "context": "c"},
    )


def test_load_multi_orders_by_first_condition(rt: Realtime) -> None:
    for name, ctx, port in [("c", "x", "9"), ("a", "z", "100"), ("b", "y", ""), ("d", "", "10")]:
        _store(rt, name=name, context=ctx, port=port)
    assert _names(rt.load_multi("peers", ("name LIKE", "%"))) == ["a", "b", "c", "d"]
    got = [r.get("context", "") for r in rt.load_multi("peers", ("context LIKE", "%"))]
    assert got == ["", "x", "y", "z"]
    assert _names(rt.load_multi("peers", ("port LIKE", "%"))) == ["b", "c", "d", "a"]


def test_at_least_one_condition(rt: Realtime) -> None:
    with pytest.raises(QueryError, match="at least one condition"):
        rt.load_multi("peers")


def test_counts(rt: Realtime) -> None:
    for name in ["a", "b", "c"]:
        _store(rt, name=name, host="dynamic")
    assert rt.update("peers", "host", "dynamic", {"context": "x"}) == 3
    assert rt.update("peers", "host", "dynamic", {"context": "x"}) == 3  # unchanged rows count
    assert rt.update("peers", "name", "nobody", {"context": "x"}) == 0
    assert rt.update2("peers", [("host", "dynamic"), ("name !=", "a")], {"context": "y"}) == 2
    assert rt.update("peers", "name LIKE", "_", {"port": "5060"}) == 3
    assert rt.destroy("peers", "name", "a") == 1
    assert rt.destroy("peers", "name", "a") == 0
    assert rt.destroy("peers", "host", "dynamic", ("context", "x")) == 0
    assert rt.destroy("peers", "host", "dynamic", ("context", "y")) == 2
    assert rt.load_multi("peers", ("name LIKE", "%")) == []


def test_failed_write_changes_nothing(rt: Realtime) -> None:
    _store(rt, name="a", host="h")
    with pytest.raises(QueryError):
        rt.update("peers", "name", "a", {"host": "new", "nosuch": "x"})
    with pytest.raises(QueryError):
        rt.update("peers", "name", "a", {"host": "new", "port": "not a number"})
    with pytest.raises(QueryError):
        rt.store("peers", {"name": "x" * 500})
    assert rt.load_multi("peers", ("name LIKE", "%")) == [{"name": "a", "host": "h"}]


def test_require_and_unload(rt: Realtime) -> None:
    assert rt.require("peers", {"useragent": ("char", 255), "regseconds": ("integer4", 11)})
    _store(rt, name="a", useragent="Yealink", regseconds="1790000000")
    assert rt.load("peers", useragent="Yealink") == {
        "name": "a",
        "useragent": "Yealink",
        "regseconds": "1790000000",
    }
    assert rt.unload("peers")
    assert not rt.unload("peers")
    assert rt.load("peers", name="a") is not None
    assert not rt.require("peers", {"name": ("char", 400)})  # too short
    assert not rt.require("peers", {"port": ("char", 10)})  # not text
    assert not rt.require("peers", {"port": ("uinteger8", 20)})  # too small


def _static_rows(rt: Realtime) -> None:
    assert rt.require("ast.conf", STATIC_COLUMNS)
    rows = [
        ("ast.conf", "general", "b", "2", "5", "1", "0"),
        ("ast.conf", "general", "a", "1;x", "5", "0", "0"),
        ("ast.conf", "phones", "x", "9", "1", "0", "0"),
        ("ast.conf", "phones", "y", "hidden", "1", "1", "1"),
        ("ast.conf", "general", "late", "z", "0", "0", "0"),
        ("ast.conf", "", "#include", "inc.conf", "0", "9", "0"),
        ("ast.conf", "B", "v", "upper", "-1", "0", "0"),
        ("ast.conf", "a", "v", "lower", "-1", "0", "0"),
        ("other.conf", "general", "n", "o", "0", "0", "0"),
    ]
    for f, c, n, v, cm, vm, com in rows:
        rt.store(
            "ast.conf",
            {
                "filename": f,
                "category": c,
                "var_name": n,
                "var_val": v,
                "cat_metric": cm,
                "var_metric": vm,
                "commented": com,
            },
        )


def test_static_config_order_and_include(rt: Realtime, tmp_path: Path) -> None:
    _static_rows(rt)
    (tmp_path / "inc.conf").write_text("[from_file]\nk = file\n")
    rt.config_dir = tmp_path
    cfg = rt.load_config("ast.conf")
    assert [(c.name, c.items()) for c in cfg] == [
        ("general", [("a", "1;x"), ("b", "2")]),
        ("phones", [("x", "9")]),
        ("general", [("late", "z")]),
        ("from_file", [("k", "file")]),
        ("B", [("v", "upper")]),
        ("a", [("v", "lower")]),
    ]
    assert isinstance(cfg, Config)
