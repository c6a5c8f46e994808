"""The realtime cache on MariaDB (see ara_testservers.sqlcache): no change feed, rows by ttl."""

from __future__ import annotations

from ara_testservers.sqlcache import *  # noqa: F403
