"""What the SQL drivers share: the ``^XX`` codec, identifier quoting and statement building.

The core itself speaks no SQL; drivers that do import this package.
"""

from __future__ import annotations

from .codec import decode, encode
from .statements import Dialect, Statements, TableInfo

__all__ = ["Dialect", "Statements", "TableInfo", "decode", "encode"]
