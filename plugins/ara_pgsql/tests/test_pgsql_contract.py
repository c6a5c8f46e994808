"""The contract's rules on a real PostgreSQL server (see ara_testservers.sqlcontract)."""

from __future__ import annotations

from ara_testservers.sqlcontract import *  # noqa: F403
