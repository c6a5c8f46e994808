"""What ``Realtime.status()`` and ``realtime status`` report of each backend.

Like Asterisk's ``realtime show pgsql status``, but for every mapped backend: which families
it serves, whether it answers, its pool, its back-off state and its server's version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["BackendStatus", "PoolStatus", "SideStatus", "State"]

#: ``up``: it answered (or its last call succeeded); ``down``: it did not answer now;
#: ``failing``: its last call failed (``backing off``: and it rests before the next try);
#: ``not connected``: never used yet (status asked without probing).
State = Literal["up", "down", "failing", "backing off", "not connected"]


@dataclass(frozen=True)
class PoolStatus:
    """One pool of connections."""

    #: Connections checked out right now.
    in_use: int
    #: Idle connections kept.
    idle: int
    #: Most connections that may exist at once.
    limit: int


@dataclass(frozen=True)
class SideStatus:
    """One side (``read``, ``write``) of a backend whose reads and writes go to different
    servers: each is asked on its own, so a dead primary behind live standbys shows."""

    state: Literal["up", "down"]
    #: The server it reached (``host:port``), when the driver can tell.
    reached: str | None = None
    #: Why it did not answer, without values or secrets.
    error: str | None = None


@dataclass(frozen=True)
class BackendStatus:
    """One (driver, database) backend and the mappings it serves."""

    backend: str
    driver: str
    database: str
    #: Every mapping served by this backend: its name, with ``(priority N)`` after N > 1.
    mappings: tuple[str, ...]
    state: State
    connected: bool
    #: Consecutive failed calls (0 when healthy), and every failure since it was set up.
    failures: int = 0
    total_failures: int = 0
    #: Seconds until a resting backend is tried again first (``None``: not resting).
    retry_in: float | None = None
    #: The last failure (or why the probe failed), without values or secrets.
    error: str | None = None
    #: The storage's own answer (``ara_status``): server version, pools, what it is.
    server: str | None = None
    detail: str | None = None
    pools: Mapping[str, PoolStatus] = field(default_factory=dict)
    #: Each side, when reads and writes go to different servers (empty otherwise); the
    #: backend is ``down`` when any side is.
    sides: Mapping[str, SideStatus] = field(default_factory=dict)
    #: Its settings are wrong (a ``ConfigError`` opening it): ``realtime status`` exits 2.
    misconfigured: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        out = asdict(self)
        out["mappings"] = list(self.mappings)
        return out


def pools_from(value: Any) -> dict[str, PoolStatus]:
    """A driver's ``pools`` answer as :class:`PoolStatus` objects (mappings accepted too)."""
    out: dict[str, PoolStatus] = {}
    for name, pool in dict(value or {}).items():
        if isinstance(pool, PoolStatus):
            out[str(name)] = pool
        elif isinstance(pool, Mapping):
            out[str(name)] = PoolStatus(
                int(pool.get("in_use", 0)), int(pool.get("idle", 0)), int(pool.get("limit", 0))
            )
        else:
            out[str(name)] = PoolStatus(int(pool.in_use), int(pool.idle), int(pool.limit))
    return out


def sides_from(value: Any) -> dict[str, SideStatus]:
    """A driver's ``sides`` answer as :class:`SideStatus` objects (mappings accepted too)."""
    out: dict[str, SideStatus] = {}
    for name, side in dict(value or {}).items():
        if isinstance(side, SideStatus):
            out[str(name)] = side
        else:
            state: Literal["up", "down"] = "up" if side.get("state") == "up" else "down"
            reached, error = side.get("reached"), side.get("error")
            out[str(name)] = SideStatus(
                state, str(reached) if reached else None, str(error) if error else None
            )
    return out
