"""ara-mysql: the MySQL/MariaDB driver for ara-realtime (``family => mysql,section[,table]``).

The driver module is :mod:`ara_mysql.driver`, found through the ``ara_realtime.drivers`` entry
point ``mysql``; settings come from ``res_config_mysql.conf`` (:mod:`ara_mysql.config`).
"""

from __future__ import annotations

__all__: list[str] = []
