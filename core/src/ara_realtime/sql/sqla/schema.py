"""Column facts from SQLAlchemy reflection (``Inspector.get_columns``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import types as sqltypes

from ..schema import ColumnFacts, Kind, int_range

__all__ = ["column_facts"]


def _int_range(type_: Any) -> tuple[int, int]:
    name = type(type_).__name__.upper()
    if "TINY" in name:
        bits = 8
    elif "SMALL" in name:
        bits = 16
    elif "MEDIUM" in name:
        bits = 24
    elif "BIG" in name:
        bits = 64
    else:
        bits = 32
    return int_range(bits, bool(getattr(type_, "unsigned", False)))


def column_facts(name: str, type_: Any, nullable: bool, dialect: Any = None) -> ColumnFacts:
    """Classify a column reflected by SQLAlchemy (``Inspector.get_columns``)."""
    try:
        type_name = str(type_.compile(dialect=dialect))
    except Exception:
        type_name = type(type_).__name__
    kind: Kind
    length = None
    rng = None
    if isinstance(type_, sqltypes.Enum):
        kind = "enum"
    elif isinstance(type_, sqltypes.String):
        kind = "text"
        length = getattr(type_, "length", None)
    elif isinstance(type_, sqltypes.Boolean):
        kind = "other"
    elif isinstance(type_, sqltypes.Integer):
        kind = "int"
        rng = _int_range(type_)
    elif isinstance(type_, sqltypes.Numeric):
        kind = "float"
    elif isinstance(type_, sqltypes.DateTime):
        kind = "datetime"
    elif isinstance(type_, sqltypes.Date):
        kind = "date"
    else:
        kind = "other"
    return ColumnFacts(name, kind, type_name, nullable, length, rng)
