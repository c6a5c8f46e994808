"""ara-pgsql: the PostgreSQL driver for ara-realtime (``family => pgsql,database[,table]``).

The driver module is :mod:`ara_pgsql.driver`, found through the ``ara_realtime.drivers`` entry
point ``pgsql``; settings come from ``res_pgsql.conf`` (:mod:`ara_pgsql.config`).
"""

from __future__ import annotations

__all__: list[str] = []
