"""The reference model against the core's own implementations (they were written apart)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ara_conformance._model import (
    Cond,
    LikeError,
    Model,
    StaticModelRow,
    decode_codec,
    like_match,
    static_config,
)
from ara_conformance._strategies import HOSTILE_ALPHABET, like_patterns
from ara_realtime import QueryError
from ara_realtime.conditions import like_regex
from ara_realtime.datatypes import StaticRow
from ara_realtime.sql.codec import decode, encode
from ara_realtime.static import build_config

_TEXT = st.text(alphabet=HOSTILE_ALPHABET + "bc", max_size=8)


@settings(max_examples=300, derandomize=True)
@given(_TEXT, st.data())
def test_like_agrees_with_the_core(value: str, data: st.DataObject) -> None:
    pattern = data.draw(st.one_of(like_patterns(value), _TEXT))
    try:
        core = like_regex(pattern).fullmatch(value) is not None
    except QueryError:
        with pytest.raises(LikeError):
            like_match(pattern, value)
        return
    assert like_match(pattern, value) == core, (pattern, value)


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("a%", "abc", True),
        ("a_c", "abc", True),
        ("a\\_c", "abc", False),
        ("a\\_c", "a_c", True),
        ("%", "", True),
        ("_", "", False),
        ("\\\\", "\\", True),
        ("\\a", "a", True),
        ("%%_", "x", True),
    ],
)
def test_like_cases(pattern: str, value: str, expected: bool) -> None:
    assert like_match(pattern, value) is expected


def test_like_trailing_backslash() -> None:
    with pytest.raises(LikeError):
        like_match("a\\", "a")


@settings(max_examples=200, derandomize=True)
@given(st.text(alphabet=";^3Bb5Eex ", max_size=12))
def test_codec_decoding_agrees_with_the_core(value: str) -> None:
    assert decode_codec(encode(value)) == value
    assert decode_codec(value) == decode(value)


def test_model_null_rules() -> None:
    m = Model(["name", "host", "port"], frozenset({"port"}))
    m.store({"name": "a", "host": "h"})
    m.store({"name": "b", "host": ""})
    m.store({"name": "c", "port": "10"})
    m.store({"name": "d", "port": "9"})

    def names(*conds: Cond) -> list[str]:
        return [r["name"] for r in m.load_multi(list(conds))]

    assert names(("host", "=", "")) == ["b", "c", "d"]
    assert names(("host", "!=", "h")) == ["b", "c", "d"]
    assert names(("host", "!=", "")) == ["a"]
    assert names(("host", "<", "z")) == ["a"]
    assert names(("port", ">", "9")) == ["c"]
    assert names(("port", "LIKE", "%")) == ["a", "b", "d", "c"]  # absent first, then 9, 10
    assert m.update([("host", "=", "")], {"host": "x"}) == 3
    assert m.update([("host", "=", "x")], {"host": "x"}) == 3  # unchanged rows count
    assert m.destroy([("name", "LIKE", "_")]) == 4


def test_model_static_config_agrees_with_the_core() -> None:
    rows = [
        StaticModelRow("f.conf", "b", "y", "2", 1, 1),
        StaticModelRow("f.conf", "b", "x", "1", 1, 1),
        StaticModelRow("f.conf", "a", "z", "3", 5, 0),
        StaticModelRow("f.conf", "b", "w", "0", 2, 0),
        StaticModelRow("f.conf", "c", "h", "no", 0, 0, commented=1),
        StaticModelRow("g.conf", "g", "k", "v", 0, 0),
    ]
    got = static_config(rows, "f.conf")
    active = sorted(
        (r for r in rows if r.filename == "f.conf" and not r.commented),
        key=lambda r: (-r.cat_metric, r.var_metric, r.category, r.var_name),
    )
    core = build_config(
        [StaticRow(r.category, r.var_name, r.var_val, r.cat_metric, r.var_metric) for r in active],
        filename="f.conf",
        include=lambda name: static_config(rows, name),
    )
    assert got.to_dict() == core.to_dict()
    assert [(c.name, c.items()) for c in got] == [
        ("a", [("z", "3")]),
        ("b", [("w", "0")]),
        ("b", [("x", "1"), ("y", "2")]),
    ]
