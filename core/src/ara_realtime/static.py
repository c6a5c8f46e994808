"""Static configuration rows -> :class:`~ara_realtime.conf.Config`, in the contract's order."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import groupby
from operator import itemgetter

from .conf import Category, Config
from .datatypes import StaticRow

__all__ = ["INCLUDE", "build_config"]

#: ``var_name`` of a row that includes another file.
INCLUDE = "#include"

_CATEGORY_KEY = itemgetter(0, 3)  # (category, cat_metric): a change starts a new category
_VAR_NAME = itemgetter(1)


def build_config(
    rows: Iterable[StaticRow],
    *,
    filename: str,
    include: Callable[[str], Config],
    into: Config | None = None,
) -> Config:
    """Build a Config from rows already in contract order.

    A new category starts whenever the category name or ``cat_metric`` changes; a
    ``#include`` row splices ``include(var_val)`` in at that point (the category open before
    it goes on afterwards). Runs of rows of one category are added in bulk.
    """
    cfg = Config() if into is None else into
    current: Category | None = None
    key: tuple[str, int] | None = None
    for group_key, group in groupby(rows, _CATEGORY_KEY):
        run = list(group)
        if INCLUDE in map(_VAR_NAME, run):
            for row in run:
                if row[1] == INCLUDE:
                    cfg.extend(include(row[2]))
                    continue
                if current is None or key != group_key:
                    current = cfg.add_category(row[0], file=filename)
                    key = group_key
                current._add_rows([row], filename)
            continue
        if current is None or key != group_key:
            current = cfg.add_category(group_key[0], file=filename)
            key = group_key
        current._add_rows(run, filename)
    return cfg
