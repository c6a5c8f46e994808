"""A PostgreSQL server that restarts, goes down or runs out of pooled connections
(see ara_testservers.sqlserver)."""

from __future__ import annotations

from ara_testservers.sqlserver import *  # noqa: F403
