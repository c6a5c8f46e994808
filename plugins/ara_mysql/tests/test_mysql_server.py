"""A MariaDB server that restarts, goes down or runs out of pooled connections, with
mysqlclient and with PyMySQL (see ara_testservers.sqlserver)."""

from __future__ import annotations

from ara_testservers.sqlserver import *  # noqa: F403
