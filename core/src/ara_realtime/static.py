"""Static configuration rows -> :class:`~ara_realtime.conf.Config`, in the contract's order."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .conf import Config
from .datatypes import StaticRow

__all__ = ["INCLUDE", "build_config"]

#: ``var_name`` of a row that includes another file.
INCLUDE = "#include"


def build_config(
    rows: Iterable[StaticRow],
    *,
    filename: str,
    include: Callable[[str], Config],
    into: Config | None = None,
) -> Config:
    """Build a Config from rows already in contract order.

    A new category starts whenever the category name or ``cat_metric`` changes; a
    ``#include`` row splices ``include(var_val)`` in at that point.
    """
    cfg = Config() if into is None else into
    current = None
    key: tuple[str, int] | None = None
    for row in rows:
        if row.var_name == INCLUDE:
            cfg.extend(include(row.var_val))
            continue
        if current is None or key != (row.category, row.cat_metric):
            current = cfg.add_category(row.category, file=filename)
            key = (row.category, row.cat_metric)
        current.append(row.var_name, row.var_val, file=filename)
    return cfg
