"""What the SQLAlchemy-based drivers (``ara-pgsql``, ``ara-mysql``) share.

Needs the ``sqlalchemy`` extra (``pip install ara-realtime[sqlalchemy]``); only drivers import
it. SQLAlchemy supplies URLs, dialects, connection pools, reflection and DDL execution; the
hot path runs the cached statement text on the pooled DB-API connection directly.

* :mod:`.settings`: the settings every such driver shares (pool, codec, ``requirements``);
* :mod:`.pool`: pooled DB-API connections with a lock-free fast path;
* :mod:`.schema`: column facts from SQLAlchemy's reflection;
* :mod:`.connection`: :class:`SQLAlchemyConnection`, engines, pools and reflection on top
  of :class:`~ara_realtime.sql.base.DBAPIConnection`; a driver's plugin is
  ``ConnectionDriver(ItsConnection.open)``.
"""

from __future__ import annotations

from ..base import ColumnSQL
from ..schema import ColumnFacts, check_requirement, ddl_type
from .connection import SQLAlchemyConnection
from .pool import Conn, Pool
from .schema import column_facts
from .settings import COMMON_KEYS, CommonSettings, ConnectSpec, Source, parse_bool

__all__ = [
    "COMMON_KEYS",
    "ColumnFacts",
    "ColumnSQL",
    "CommonSettings",
    "Conn",
    "ConnectSpec",
    "Pool",
    "SQLAlchemyConnection",
    "Source",
    "check_requirement",
    "column_facts",
    "ddl_type",
    "parse_bool",
]
