"""What the SQL drivers share: one DB-API base, statements, the ``^XX`` codec, pools.

The core's API speaks no SQL; drivers that do import this package:

* :mod:`.base`: :class:`DBAPIConnection`, every operation once for any DB-API 2 module;
* :mod:`.statements`: statement text per dialect, cached per table and condition shape;
* :mod:`.schema`: column facts, ``require``'s checks and the DDL types per engine;
* :mod:`.pool`: the pool protocol and a bounded pool on the standard library;
* :mod:`.codec`, :mod:`.messages`: Asterisk's ``^XX`` codec; value-free error texts;
* :mod:`.sqla`: drivers built on SQLAlchemy (needs the ``sqlalchemy`` extra).
"""

from __future__ import annotations

from .base import ColumnSQL, DBAPIConnection
from .codec import decode, encode
from .statements import Dialect, Statements, TableInfo

__all__ = [
    "ColumnSQL",
    "DBAPIConnection",
    "Dialect",
    "Statements",
    "TableInfo",
    "decode",
    "encode",
]
