"""ara-odbc: the ODBC driver for ara-realtime (``family => odbc,class[,table]``).

The driver module is :mod:`ara_odbc.driver`, found through the ``ara_realtime.drivers`` entry
point ``odbc``; settings come from Asterisk's ``res_odbc.conf`` and ``res_config_odbc.conf``
(:mod:`ara_odbc.config`); the DBMS behind a DSN is recognised through ``SQLGetInfo``
(:mod:`ara_odbc.dbms`).
"""

from __future__ import annotations

__all__: list[str] = []
