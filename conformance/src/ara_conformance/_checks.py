"""Compare what a driver returns with what the model says, with messages an author can act on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ara_realtime import Realtime

from ._model import Cond, Model

__all__ = ["check_load", "check_load_multi", "check_row", "pairs", "show"]


def pairs(conds: Sequence[Cond]) -> list[tuple[str, str]]:
    """Model conditions -> the API's ``(field, value)`` pairs."""
    return [(c if op == "=" else f"{c} {op}", v) for c, op, v in conds]


def show(conds: Sequence[Cond]) -> str:
    return " AND ".join(f"{c!r} {op} {v!r}" for c, op, v in conds)


def check_row(model: Model, row: Any, what: str) -> None:
    """A returned row is a ``dict[str, str]`` in table column order without empty values."""
    assert isinstance(row, dict), f"{what}: a row must be a dict, got {type(row).__name__}"
    for key, value in row.items():
        assert type(value) is str, f"{what}: value of {key!r} is {type(value).__name__}, not str"
    problem = model.column_order_problem(row)
    assert problem is None, f"{what}: {problem}: {row!r}"


def check_load(rt: Realtime, family: str, model: Model, conds: Sequence[Cond]) -> Any:
    """``load`` returns one of the matching rows (never a merge), or ``None``."""
    got = rt.load(family, *pairs(conds))
    candidates = model.load_candidates(conds)
    what = f"load({show(conds)})"
    if not candidates:
        assert got is None, f"{what} must return None (no row matches); got {got!r}"
        return got
    assert got is not None, (
        f"{what} returned None, but {len(candidates)} row(s) match, e.g. {candidates[0]!r}"
    )
    check_row(model, got, what)
    assert got in candidates, (
        f"the row returned is not one of the matching rows (a merge of several rows, a lost "
        f"or altered value?): {what} returned {got!r}, matching {candidates!r}"
    )
    return got


def check_load_multi(
    rt: Realtime, family: str, model: Model, conds: Sequence[Cond]
) -> list[Mapping[str, str]]:
    """``load_multi`` returns exactly the matching rows, ordered by the first column."""
    got: list[Mapping[str, str]] = list(rt.load_multi(family, *pairs(conds)))
    want = model.load_multi(conds)
    what = f"load_multi({show(conds)})"
    assert isinstance(got, list), f"{what} must return a list, got {type(got).__name__}"
    for row in got:
        check_row(model, row, what)
    if not model.same_rows(got, want):
        extra = [r for r in got if r not in want]
        missing = [r for r in want if r not in got]
        raise AssertionError(
            f"{what} returned {len(got)} row(s), the contract says {len(want)}; "
            f"unexpected: {extra[:3]!r}; missing: {missing[:3]!r}"
        )
    problem = model.check_order(got, conds[0][0])
    assert problem is None, f"{what}: {problem}"
    return got
