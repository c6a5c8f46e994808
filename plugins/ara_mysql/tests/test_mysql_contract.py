"""The contract's rules on a real MariaDB server, with mysqlclient and with PyMySQL."""

from __future__ import annotations

from ara_testservers.sqlcontract import *  # noqa: F403
