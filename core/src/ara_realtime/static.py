"""Static configuration rows -> :class:`~ara_realtime.conf.Config`, in the contract's order."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import groupby
from operator import itemgetter

from .conf import Category, Config
from .datatypes import StaticTuple

__all__ = ["INCLUDE", "build_config"]

#: ``var_name`` of a row that includes another file.
INCLUDE = "#include"

_CATEGORY_KEY = itemgetter(0, 3)  # (category, cat_metric): a change starts a new category
_CATEGORY = itemgetter(0)
_VAR_NAME = itemgetter(1)
_CAT_METRIC = itemgetter(3)


def build_config(
    rows: Iterable[StaticTuple],
    *,
    filename: str,
    include: Callable[[str], Config],
    into: Config | None = None,
) -> Config:
    """Build a Config from rows already in contract order.

    A new category starts whenever the category name or ``cat_metric`` changes; a
    ``#include`` row splices ``include(var_val)`` in at that point (the category open before
    it goes on afterwards); a row with an empty ``var_name`` opens its category and adds no
    variable (how a category without variables is stored). Runs of rows of one category are
    added in bulk.
    """
    cfg = Config() if into is None else into
    if not isinstance(rows, list):
        rows = list(rows)
    names = set(map(_VAR_NAME, rows))
    if INCLUDE not in names and "" not in names:
        _build_plain(cfg, rows, filename)
        return cfg
    current: Category | None = None
    key: tuple[str, int] | None = None
    for group_key, group in groupby(rows, _CATEGORY_KEY):
        run = list(group)
        if INCLUDE in map(_VAR_NAME, run) or "" in map(_VAR_NAME, run):
            for row in run:
                if row[1] == INCLUDE:
                    cfg.extend(include(row[2]))
                    continue
                if current is None or key != group_key:
                    current = cfg.add_category(row[0], file=filename)
                    key = group_key
                if row[1]:
                    current._add_rows([row])
            continue
        if current is None or key != group_key:
            current = cfg.add_category(group_key[0], file=filename)
            key = group_key
        current._add_rows(run)
    return cfg


def _build_plain(cfg: Config, rows: list[StaticTuple], filename: str) -> None:
    """``build_config`` for rows without ``#include``: one category per run, C-level grouping.

    Runs are found by category name alone (cheaper than a (name, metric) key per row); a
    run whose rows do not share one ``cat_metric`` is split further.
    """
    append = cfg._categories.append
    bulk = Category._from_rows
    for name, group in groupby(rows, _CATEGORY):
        run = list(group)
        if len(set(map(_CAT_METRIC, run))) == 1:
            append(bulk(name, run, filename))
        else:
            for _, part in groupby(run, _CAT_METRIC):
                append(bulk(name, list(part), filename))
