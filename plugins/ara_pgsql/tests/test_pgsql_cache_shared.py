"""The realtime cache on PostgreSQL (see ara_testservers.sqlcache): through LISTEN/NOTIFY."""

from __future__ import annotations

from ara_testservers.sqlcache import *  # noqa: F403
