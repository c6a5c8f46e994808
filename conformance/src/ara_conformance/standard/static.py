"""Area ``static``: static configuration from ``ast_config`` rows."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from hypothesis import strategies as st

from ara_realtime import Config, hookimpl

from .._areas import conformance, register_standard
from .._base import ConformanceBase
from .._model import StaticModelRow, static_config
from .._profiles import examples
from .._strategies import static_configs, static_rows
from .._target import Session, Target
from ._common import STATIC_FAMILY, static_session

__all__ = ["StaticTests"]


class _StaticRowsSeen:
    """Wrapper plugin keeping what ``ara_load_static`` returned, as a list per call."""

    def __init__(self) -> None:
        self.calls: list[list[Any]] = []

    @hookimpl(wrapper=True)
    def ara_load_static(self, connection: object) -> Generator[None, Any, Any]:
        rows = list((yield))
        self.calls.append(rows)
        return rows


def _store_static(s: Session, rowlist: list[StaticModelRow]) -> None:
    for row in rowlist:
        assert s.rt.store(STATIC_FAMILY, row.as_values()) == 1


def _config_rows(
    config: list[tuple[str, list[tuple[str, str]]]], filename: str
) -> list[StaticModelRow]:
    out = []
    for i, (category, variables) in enumerate(config):
        for j, (name, value) in enumerate(variables):
            out.append(StaticModelRow(filename, category, name, value, len(config) - i, j))
    return out


def _as_config(config: list[tuple[str, list[tuple[str, str]]]]) -> Config:
    cfg = Config()
    for category, variables in config:
        cat = cfg.add_category(category)
        for name, value in variables:
            cat.append(name, value)
    return cfg


def _assert_config(got: Config, want: Config, what: str) -> None:
    assert got.to_dict() == want.to_dict(), (
        f"{what}: load_config gave {got.to_dict()!r}, the contract says {want.to_dict()!r}"
    )


@register_standard
class StaticTests(ConformanceBase):
    """Static configuration from ``ast_config`` rows."""

    @conformance("static", ops=("load_static", "store"))
    def test_static_config_round_trip(self, ara_target: Target) -> None:
        """A random ``Config`` stored as rows (in shuffled order) loads back equal."""

        limit = ara_target.capabilities.max_value_length

        @examples(static_configs(limit), st.randoms(use_true_random=False), scale=0.6)
        def check(config: list[tuple[str, list[tuple[str, str]]]], rnd: Any) -> None:
            rowlist = _config_rows(config, "round.conf")
            rnd.shuffle(rowlist)
            with static_session(ara_target) as s:
                _store_static(s, rowlist)
                _assert_config(s.rt.load_config("round.conf"), _as_config(config), "round trip")

        check()

    @conformance("static", ops=("load_static", "store"))
    def test_static_row_order_and_categories(self, ara_target: Target) -> None:
        """Rows order by cat_metric desc, var_metric, category, var_name; a new category
        starts when the name or cat_metric changes; commented rows and other files are left out.

        Usually broken by: ordering by id or insertion (Asterisk's MySQL driver), grouping
        categories by name only.
        """

        limit = ara_target.capabilities.max_value_length

        @examples(static_rows("order.conf", others=("other.conf",), max_length=limit), scale=0.6)
        def check(rowlist: list[StaticModelRow]) -> None:
            with static_session(ara_target) as s:
                _store_static(s, rowlist)
                want = static_config(rowlist, "order.conf")
                _assert_config(s.rt.load_config("order.conf"), want, "row order")

        check()

    @conformance("static", ops=("load_static", "store"))
    def test_static_include_rows(self, ara_target: Target) -> None:
        """A ``#include`` row splices the named file in at its place."""
        rowlist = [
            StaticModelRow("main.conf", "general", "a", "1", 2, 0),
            StaticModelRow("main.conf", "", "#include", "inc.conf", 1, 0),
            StaticModelRow("main.conf", "late", "z", "9", 0, 0),
            StaticModelRow("inc.conf", "included", "k", "v;^", 5, 0),
            StaticModelRow("inc.conf", "included", "k2", "v2", 5, 1),
            StaticModelRow("inc.conf", "hidden", "h", "x", 4, 0, commented=1),
        ]
        with static_session(ara_target) as s:
            _store_static(s, rowlist)
            got = s.rt.load_config("main.conf")
            _assert_config(got, static_config(rowlist, "main.conf"), "#include")
            assert [c.name for c in got] == ["general", "included", "late"]

    @conformance("static", ops=("load_static", "store"))
    def test_static_rows_have_the_hooks_shape(self, ara_target: Target) -> None:
        """``ara_load_static`` yields ``(category, var_name, var_val, cat_metric, var_metric)``
        tuples: three ``str`` and two ``int``, the active rows of the file in contract order.

        Usually broken by: metrics handed over as text or decimals, extra columns (``id``,
        ``filename``), rows as dicts, categories ordered by a case-insensitive collation.
        """
        rowlist = [
            StaticModelRow("shape.conf", "b", "x", "1;2", 7, 2),
            StaticModelRow("shape.conf", "a", "y", "3", 7, 2),
            StaticModelRow("shape.conf", "b", "z", "^4", 7, 0),
            StaticModelRow("shape.conf", "c", "w", "5", 12, 9),
            StaticModelRow("shape.conf", "B", "x", "8", 7, 2),  # "B" < "a": by code point
            StaticModelRow("shape.conf", "c", "v", "6", 0, 1, commented=1),
            StaticModelRow("other.conf", "c", "u", "7", 3, 3),
        ]
        seen = _StaticRowsSeen()
        with static_session(ara_target, seen) as s:
            _store_static(s, rowlist)
            s.rt.load_config("shape.conf")
        assert seen.calls, "ara_load_static was never called"
        got = seen.calls[0]
        for row in got:
            types = tuple(type(v).__name__ for v in row) if isinstance(row, tuple) else None
            assert types == ("str", "str", "str", "int", "int"), (
                f"a static row must be a (str, str, str, int, int) tuple, got {row!r}"
            )
        active = [r for r in rowlist if r.filename == "shape.conf" and not r.commented]
        active.sort(key=lambda r: (-r.cat_metric, r.var_metric, r.category, r.var_name))
        want = [(r.category, r.var_name, r.var_val, r.cat_metric, r.var_metric) for r in active]
        assert [tuple(r) for r in got] == want, (
            f"static rows: ara_load_static gave {got!r}, the contract says {want!r}"
        )

    @conformance("static", ops=("load_static", "store"))
    def test_static_null_fields_and_commented(self, ara_target: Target) -> None:
        """NULL texts come as ``""`` and NULL metrics as ``0``; a row is active only when
        ``commented`` is 0: NULL ``commented``, like 1, leaves it out (as Asterisk's drivers
        select ``commented = 0``).

        Usually broken by: ``int(None)``; NULL metrics handed over as None; a NULL
        ``commented`` read as 0.
        """
        base = {"filename": "nul.conf", "commented": "0"}
        stored = [
            {**base, "category": "a", "var_name": "x"},  # var_val, metrics NULL
            {**base, "category": "b", "var_name": "y", "var_val": "1", "cat_metric": "5"},
            {"filename": "nul.conf", "category": "c", "var_name": "z", "var_val": "2"},
            {**base, "category": "d", "var_name": "w", "var_val": "3", "commented": "1"},
        ]
        seen = _StaticRowsSeen()
        with static_session(ara_target, seen) as s:
            for row in stored:
                assert s.rt.store(STATIC_FAMILY, row) == 1
            cfg = s.rt.load_config("nul.conf")
        assert seen.calls, "ara_load_static was never called"
        got = [tuple(r) for r in seen.calls[0]]
        assert got == [("b", "y", "1", 5, 0), ("a", "x", "", 0, 0)], (
            f"static rows with NULL fields: got {got!r}; NULL texts are '', NULL metrics 0, "
            "and only commented = 0 is active"
        )
        assert [c.name for c in cfg] == ["b", "a"]

    @conformance("static", ops=("load_static", "store"))
    def test_static_same_category_other_metric_is_a_new_category(self, ara_target: Target) -> None:
        """Rows of one category name with two ``cat_metric`` values make two categories of
        that name, in ``cat_metric`` order; rows with the same name and metric make one."""
        rowlist = [
            StaticModelRow("cat.conf", "c", "low", "1", 1, 0),
            StaticModelRow("cat.conf", "c", "high", "2", 2, 0),
            StaticModelRow("cat.conf", "c", "high2", "3", 2, 1),
        ]
        with static_session(ara_target) as s:
            _store_static(s, rowlist)
            got = s.rt.load_config("cat.conf")
        assert [(c.name, [(v.name, v.value) for v in c]) for c in got] == [
            ("c", [("high", "2"), ("high2", "3")]),
            ("c", [("low", "1")]),
        ], f"categories: {got.to_dict()!r}"

    @conformance("static", ops=("load_static", "store"))
    def test_static_file_without_rows_is_empty(self, ara_target: Target) -> None:
        """A file with no (active) rows loads as an empty ``Config``."""
        with static_session(ara_target) as s:
            _store_static(s, [StaticModelRow("x.conf", "c", "v", "1", 0, 0, commented=1)])
            assert list(s.rt.load_config("x.conf")) == []
            assert list(s.rt.load_config("none.conf")) == []
