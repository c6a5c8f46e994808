"""The contract's value, condition and outcome rules, on both built-in drivers (real files)."""

from __future__ import annotations

import pytest

from ara_realtime import Config, QueryError, Realtime

HOSTILE = [
    "  leading and trailing  ",
    "semi;colon",
    "caret^5E^",
    "back\\slash",
    'it\'s "quoted"',
    "100% _under_ *star* (paren)",
    "ünïcödé ✓ 電話 🎉",
    "tab\there",
]


def _store(rt: Realtime, **values: str) -> None:
    assert rt.store("peers", values) == 1


@pytest.mark.parametrize("value", HOSTILE)
def test_values_round_trip_exactly(rt: Realtime, value: str) -> None:
    _store(rt, name="alice", secret=value)
    assert rt.load("peers", name="alice") == {"name": "alice", "secret": value}
    assert rt.load("peers", secret=value) == {"name": "alice", "secret": value}
    assert rt.update("peers", "secret", value, {"context": value}) == 1
    assert rt.load("peers", ("context", value))["context"] == value


def test_row_is_in_table_column_order_without_empty_columns(rt: Realtime) -> None:
    _store(rt, secret="s", name="bob", host="", context="internal")
    row = rt.load("peers", name="bob")
    assert list(row.items()) == [("name", "bob"), ("secret", "s"), ("context", "internal")]


def test_nul_is_rejected_before_io(rt: Realtime) -> None:
    with pytest.raises(ValueError, match="NUL"):
        rt.store("peers", {"name": "x\x00y"})
    with pytest.raises(QueryError, match="NUL"):
        rt.load("peers", name="\x00")
    assert rt.load_multi("peers", ("name LIKE", "%")) == []


def test_non_str_values_are_rejected(rt: Realtime) -> None:
    with pytest.raises(QueryError, match="must be str"):
        rt.store("peers", {"name": "x", "port": 5060})  # type: ignore[dict-item]


def test_null_and_empty_are_the_same(rt: Realtime) -> None:
    _store(rt, name="a", host="dynamic")
    _store(rt, name="b", host="")
    _store(rt, name="c")
    assert [r["name"] for r in rt.load_multi("peers", ("host", ""))] == ["b", "c"]
    assert [r["name"] for r in rt.load_multi("peers", ("host !=", ""))] == ["a"]
    assert [r["name"] for r in rt.load_multi("peers", ("host !=", "dynamic"))] == ["b", "c"]
    got = [r["name"] for r in rt.load_multi("peers", ("host LIKE", "%"))]
    assert sorted(got[:2]) == ["b", "c"] and got[2] == "a"  # absent first; ties unordered
    assert [r["name"] for r in rt.load_multi("peers", ("host NOT LIKE", "d%"))] == ["b", "c"]
    assert rt.load_multi("peers", ("host NOT LIKE", "%")) == []
    assert [r["name"] for r in rt.load_multi("peers", ("host >", ""))] == ["a"]
    assert [r["name"] for r in rt.load_multi("peers", ("host <", "zzz"))] == ["a"]


def test_writing_empty_clears_the_value(rt: Realtime) -> None:
    _store(rt, name="a", host="dynamic")
    assert rt.update("peers", "name", "a", {"host": ""}) == 1
    assert rt.load("peers", name="a") == {"name": "a"}


@pytest.mark.parametrize("literal", ["*", "%", "_", "\\"])
def test_wildcards_are_literal_without_like(rt: Realtime, literal: str) -> None:
    _store(rt, name="a", host="other")
    _store(rt, name="b", host=literal)
    assert [r["name"] for r in rt.load_multi("peers", ("host", literal))] == ["b"]
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
    ],
)
def test_like(rt: Realtime, pattern: str, expected: list[str]) -> None:
    for name in ["alice", "al_ice", "al", "50%off", "back\\slash"]:
        _store(rt, name=name)
    got = sorted(r["name"] for r in rt.load_multi("peers", ("name LIKE", pattern)))
    assert got == sorted(expected)
    everything = {"alice", "al_ice", "al", "50%off", "back\\slash"}
    not_like = {r["name"] for r in rt.load_multi("peers", ("name NOT LIKE", pattern))}
    assert not_like == everything - set(expected)


def test_like_trailing_escape_is_an_error(rt: Realtime) -> None:
    with pytest.raises(QueryError, match="escaping backslash"):
        rt.load("peers", ("name LIKE", "abc\\"))


def test_equality_is_case_and_space_sensitive(rt: Realtime) -> None:
    _store(rt, name="Alice")
    assert rt.load("peers", name="alice") is None
    assert rt.load("peers", name="Alice ") is None
    assert rt.load("peers", name="Alice") == {"name": "Alice"}


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "=", "!="])
def test_numeric_comparison_on_integer_columns(rt: Realtime, op: str) -> None:
    for i, port in enumerate(["9", "10", "100", "5060"]):
        _store(rt, name=f"p{i}", port=port)
    _store(rt, name="none")
    import operator

    fn = {
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
        "=": operator.eq,
        "!=": operator.ne,
    }[op]
    got = {r["name"] for r in rt.load_multi("peers", ("name LIKE", "p%"), (f"port {op}", "100"))}
    assert got == {f"p{i}" for i, p in enumerate([9, 10, 100, 5060]) if fn(p, 100)}


def test_text_comparison_is_by_code_point(rt: Realtime) -> None:
    for name in ["B", "a", "b", "Z", "é"]:
        _store(rt, name=name)
    assert [r["name"] for r in rt.load_multi("peers", ("name >", "Z"))] == ["a", "b", "é"]
    assert [r["name"] for r in rt.load_multi("peers", ("name <=", "B"))] == ["B"]


def test_operator_words_are_case_insensitive_and_unknown_ones_refused(rt: Realtime) -> None:
    _store(rt, name="alice")
    assert rt.load("peers", ("name like", "ali%")) == {"name": "alice"}
    assert rt.load("peers", ("name  not   like", "x%")) == {"name": "alice"}
    for bad in ["name IS", "name REGEXP", "name = 1 OR 1", "name ~", "name LIKE;"]:
        with pytest.raises(QueryError, match="unknown operator"):
            rt.load("peers", (bad, "x"))
    with pytest.raises(QueryError, match="invalid column name"):
        rt.load("peers", ("name;", "x"))


@pytest.mark.parametrize("bad", ["na me", 'name"', "name'", "", "-x", "a;b", "a)"])
def test_invalid_column_names_never_reach_the_query(rt: Realtime, bad: str) -> None:
    with pytest.raises(QueryError):
        rt.store("peers", {bad: "x"})


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
        assert (info.value.family, info.value.table, info.value.field) == (
            "peers",
            "peers",
            "nosuch",
        )
        assert "nosuch" in str(info.value) and "peers" in str(info.value)
    assert rt.load("peers", name="alice") == {"name": "alice"}


def test_asterisk_column_names_work(rt: Realtime) -> None:
    _store(rt, name="a", **{"session-timers": "accept", "100rel": "yes", "@body": "x;y"})
    row = rt.load("peers", ("session-timers", "accept"), ("100rel", "yes"))
    assert row == {"name": "a", "session-timers": "accept", "100rel": "yes", "@body": "x;y"}
    assert rt.update2("peers", {"@body": "x;y"}, {"100rel": "no"}) == 1


def test_load_returns_one_row_never_a_merge(rt: Realtime) -> None:
    _store(rt, name="a", host="h", secret="1")
    _store(rt, name="b", host="h", context="c")
    row = rt.load("peers", host="h")
    assert row in (
        {"name": "a", "host": "h", "secret": "1"},
        {"name": "b", "host": "h", "context": "c"},
    )


def test_load_multi_orders_by_first_condition(rt: Realtime) -> None:
    for name, ctx in [("c", "x"), ("a", "z"), ("b", "y"), ("d", "")]:
        _store(rt, name=name, context=ctx)
    assert [r["name"] for r in rt.load_multi("peers", ("name LIKE", "%"))] == ["a", "b", "c", "d"]
    got = [
        r.get("context", "")
        for r in rt.load_multi("peers", ("context LIKE", "%"), ("name !=", "q"))
    ]
    assert got == ["", "x", "y", "z"]


def test_at_least_one_condition(rt: Realtime) -> None:
    with pytest.raises(QueryError, match="at least one condition"):
        rt.load_multi("peers")
    with pytest.raises(QueryError, match="at least one condition"):
        rt.load("peers")


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
    assert rt.load("peers", name="a") == {"name": "a", "host": "h"}


def test_write_requires_values(rt: Realtime) -> None:
    with pytest.raises(QueryError, match="at least one column"):
        rt.store("peers", {})
    with pytest.raises(QueryError, match="given twice"):
        rt.update2("peers", {"name": "a"}, [("host", "1"), ("host", "2")])  # type: ignore[arg-type]


def test_write_columns_from_any_mapping_never_from_a_sequence(rt: Realtime) -> None:
    """The columns of a write come from a mapping (anything ``{**m}`` accepts, such as a
    ``sqlite3.Row``) plus keywords, which win; a list is refused, never read as pairs."""
    import sqlite3
    from types import MappingProxyType

    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    row = db.execute("SELECT 'zz' AS name, 'ab' AS host").fetchone()
    assert rt.store("peers", row) == 1
    assert rt.load("peers", name="zz") == {"name": "zz", "host": "ab"}
    assert rt.update("peers", "name", "zz", MappingProxyType({"host": "cd"})) == 1
    fields = {"host": "ef"}
    assert rt.update("peers", "name", "zz", fields, host="gh") == 1
    assert fields == {"host": "ef"}
    assert rt.load("peers", name="zz") == {"name": "zz", "host": "gh"}
    for bad in (["ab", "cd"], [("name", "x")]):
        with pytest.raises(QueryError, match="must be a mapping, not list"):
            rt.store("peers", bad)  # type: ignore[arg-type]
        with pytest.raises(QueryError, match="must be a mapping, not list"):
            rt.update("peers", "name", "zz", bad)  # type: ignore[arg-type]
    assert rt.load_multi("peers", ("name LIKE", "%")) == [{"name": "zz", "host": "gh"}]


def test_keyword_and_mapping_conditions(rt: Realtime) -> None:
    _store(rt, name="a", host="h", context="c")
    assert rt.load("peers", {"name": "a", "host": "h"}, context="c") is not None
    assert rt.load("peers", {"name": "a", "host": "h"}, context="d") is None


def test_families_are_case_insensitive_and_unmapped_ones_refused(rt: Realtime) -> None:
    _store(rt, name="a")
    assert rt.load("PEERS", name="a") == {"name": "a"}
    assert rt.is_mapped("Peers") and not rt.is_mapped("voicemail")
    from ara_realtime import ConfigError

    with pytest.raises(ConfigError, match="not mapped"):
        rt.load("voicemail", mailbox="1")


def test_require_and_unload(rt: Realtime) -> None:
    assert rt.require("peers", {"useragent": ("char", 255), "regseconds": ("integer4", 11)})
    _store(rt, name="a", useragent="Yealink")
    assert rt.load("peers", useragent="Yealink") == {"name": "a", "useragent": "Yealink"}
    rt.unload("peers")
    assert rt.load("peers", name="a") == {"name": "a", "useragent": "Yealink"}
    with pytest.raises(QueryError, match="unknown requirement type"):
        rt.require("peers", {"x": ("varchar", 3)})


def _static_rows(rt: Realtime) -> None:
    assert rt.require(
        "ast.conf",
        {
            "filename": ("char", 128),
            "category": ("char", 128),
            "var_name": ("char", 128),
            "var_val": ("char", 255),
            "cat_metric": ("integer4", 11),
            "var_metric": ("integer4", 11),
            "commented": ("integer1", 4),
        },
    )
    rows = [
        ("ast.conf", "general", "b", "2", "5", "1", "0"),
        ("ast.conf", "general", "a", "1", "5", "0", "0"),
        ("ast.conf", "phones", "x", "9", "1", "0", "0"),
        ("ast.conf", "phones", "y", "hidden", "1", "1", "1"),
        ("ast.conf", "general", "late", "z", "0", "0", "0"),
        ("ast.conf", "", "#include", "inc.conf", "0", "9", "0"),
        ("inc.conf", "included", "k", "v", "0", "0", "0"),
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


def test_static_config_order_and_include(rt: Realtime, tmp_path) -> None:
    _static_rows(rt)
    (tmp_path / "inc.conf").write_text("[from_file]\nk = file\n")
    # inc.conf is not mapped: it comes from the file next to ... the config_dir
    rt.config_dir = tmp_path
    cfg = rt.load_config("ast.conf")
    assert [(c.name, c.items()) for c in cfg] == [
        ("general", [("a", "1"), ("b", "2")]),
        ("phones", [("x", "9")]),
        ("general", [("late", "z")]),
        ("from_file", [("k", "file")]),
    ]
    assert cfg.get("general", "a") == "1"
    expected = Config.from_string(
        "[general]\na=1\nb=2\n[phones]\nx=9\n[general]\nlate=z\n[from_file]\nk=file\n"
    )
    assert cfg == expected


def test_malformed_conditions_are_query_errors(rt: Realtime) -> None:
    for bad in [("name", "a", "b"), ("name",), ["name", "a"], ("name", None)]:
        with pytest.raises(QueryError):
            rt.load("peers", bad)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="field name must be str"):
        rt.load("peers", (1, "a"))  # type: ignore[arg-type]


def test_cached_statements_follow_schema_changes(rt: Realtime) -> None:
    _store(rt, name="a", host="h")
    assert rt.load("peers", name="a") == {"name": "a", "host": "h"}
    assert rt.load("peers", ("name", "a")) == {"name": "a", "host": "h"}  # the cached path
    assert rt.require("peers", {"regserver": ("char", 20)})
    assert rt.update("peers", "name", "a", {"regserver": "pbx1"}) == 1
    assert rt.load("peers", ("name", "a")) == {"name": "a", "host": "h", "regserver": "pbx1"}
