"""What the area modules share: the family they test, the model, small helpers."""

from __future__ import annotations

from .._model import Model
from .._tables import PEERS, STATIC, TableSpec
from .._target import Session, Target

__all__ = [
    "FAM",
    "INTEGER",
    "STATIC_FAMILY",
    "TEXT",
    "model_for",
    "row_names",
    "static_session",
    "store_all",
    "value_limit",
]

#: The family every area tests (mapped to a fresh ``PEERS`` table by the ``ara`` fixture).
FAM = "peers"
TEXT = PEERS.text
INTEGER = tuple(c for c in PEERS.columns if c in PEERS.integer)
#: The family whose ``ast_config`` table also serves static files (mapped as ``global`` too).
STATIC_FAMILY = "ast_config"


def model_for(target: Target, spec: TableSpec = PEERS) -> Model:
    """An empty model of ``spec`` with the target's declared matching and ordering."""
    caps = target.capabilities
    return Model(
        list(spec.columns),
        spec.integer,
        case_insensitive=caps.case_insensitive,
        text_order=caps.text_order,
    )


def store_all(s: Session, model: Model, rowlist: list[dict[str, str]]) -> None:
    """Store each row through the driver (each must return 1) and in the model."""
    for row in rowlist:
        got = s.rt.store(FAM, row)
        assert got == 1, f"store({row!r}) returned {got!r}; it must return 1"
        model.store(row)


def row_names(rowlist: list[dict[str, str]]) -> list[str]:
    """The ``name`` of each row, in the order given."""
    return [r.get("name", "") for r in rowlist]


def value_limit(target: Target, size: int) -> int:
    """``size`` capped by the driver's declared ``max_value_length``."""
    limit = target.capabilities.max_value_length
    return size if limit is None else min(size, limit)


def static_session(target: Target, *observers: object) -> Session:
    """A fresh ``ast_config`` table, mapped for ``load_config`` of every file."""
    return target.open({STATIC_FAMILY: STATIC}, static=STATIC_FAMILY, observers=observers)
