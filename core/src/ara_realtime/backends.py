"""One backend (a driver and a database) as the facade keeps it: connection, health, status."""

from __future__ import annotations

import collections.abc as cabc
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .capabilities import Capabilities
from .errors import BackendError, ConfigError
from .extconfig import Mapping
from .plugins import DriverHooks, Plugins
from .status import BackendStatus, State, pools_from, sides_from

__all__ = ["Backend", "Route"]

log = logging.getLogger("ara_realtime.realtime")

#: A backend that stays down is logged again at most this often (seconds), even when its
#: back-off ceiling is shorter.
_MIN_LOG_INTERVAL = 10.0
_now = time.monotonic


class Backend:
    """One (driver, database) pair: its connection, opened lazily, and its health."""

    __slots__ = (
        "bound",
        "capabilities",
        "config_dir",
        "connection",
        "database",
        "down_since",
        "driver",
        "failed_until",
        "failures",
        "label",
        "last_error",
        "lock",
        "next_log",
        "settings",
        "suppressed",
        "total_failures",
    )

    def __init__(
        self,
        driver: str,
        database: str,
        settings: cabc.Mapping[str, str],
        config_dir: Path | None,
    ) -> None:
        self.driver = driver
        self.database = database
        self.settings = dict(settings)
        self.config_dir = config_dir
        self.connection: Any = None
        #: (plugins generation, operation -> callable) once the connection is open; each
        #: callable takes the hook's arguments after ``connection``
        self.bound: tuple[int, dict[str, Callable[..., Any]]] = (-1, {})
        self.capabilities = Capabilities()
        self.failed_until = 0.0
        #: consecutive failures (0: healthy), and every failure since the backend was made
        self.failures = 0
        self.total_failures = 0
        self.down_since = 0.0
        self.next_log = 0.0
        self.suppressed = 0
        self.last_error = ""
        self.label = f"{driver}:{database}"
        self.lock = threading.Lock()

    def __repr__(self) -> str:  # settings may hold secrets: never shown
        state = "open" if self.connection is not None else "closed"
        return f"<backend {self.label} {state}>"

    def open(self, hooks: DriverHooks) -> Any:
        with self.lock:
            if self.connection is None:
                assert hooks.connect is not None  # checked when the driver was registered
                conn = hooks.connect(self.database, self.settings, self.config_dir)
                if conn is None:
                    raise ConfigError(f"driver {self.driver!r}: ara_connect returned None")
                caps = hooks.capabilities(conn) if hooks.capabilities else None
                self.capabilities = caps if caps is not None else Capabilities()
                self.connection = conn
            return self.connection

    def close(self, hooks: DriverHooks | None) -> None:
        with self.lock:
            conn, self.connection = self.connection, None
            self.bound = (-1, {})
        if conn is not None and hooks is not None and hooks.close is not None:
            hooks.close(conn)

    def mark_failed(self, exc: BaseException, initial: float, ceiling: float) -> None:
        """Back off (doubling up to ``ceiling``); log once per state change and period."""
        now = _now()
        with self.lock:
            self.failures += 1
            self.total_failures += 1
            self.last_error = str(exc)
            # the exponent is capped: 2.0 ** 1024 overflows, and the ceiling is reached long before
            delay = min(ceiling, initial * 2.0 ** min(self.failures - 1, 64))
            self.failed_until = now + delay
            if self.failures == 1:
                self.down_since = now
                self.suppressed = 0
                self.next_log = now + max(ceiling, _MIN_LOG_INTERVAL)
                log.warning(
                    "backend %s failed (%s); calls go to the next priority, retrying it in %g s",
                    self.label,
                    exc,
                    delay,
                )
            elif now >= self.next_log:
                log.warning(
                    "backend %s still failing after %.0f s (%s); %d failed calls not logged",
                    self.label,
                    now - self.down_since,
                    exc,
                    self.suppressed,
                )
                self.suppressed = 0
                self.next_log = now + max(ceiling, _MIN_LOG_INTERVAL)
            else:
                self.suppressed += 1

    def status(self, mappings: tuple[str, ...], plugins: Plugins | None) -> BackendStatus:
        """What ``Realtime.status`` reports; with ``plugins``, the storage is asked too."""
        now = _now()
        resting = self.failed_until > now
        state: State
        if self.failures:
            state = "backing off" if resting else "failing"
        else:
            state = "up" if self.connection is not None else "not connected"
        error = self.last_error if self.failures else None
        answer: cabc.Mapping[str, Any] = {}
        misconfigured = False
        if plugins is not None:
            try:
                hooks = plugins.hooks(self.driver)
                conn = self.connection or self.open(hooks)
                answer = hooks.status(conn) if hooks.status is not None else {}
                if not self.failures:
                    state = "up"
            except (BackendError, ConfigError) as exc:
                state, error = "down", str(exc)
                misconfigured = isinstance(exc, ConfigError)
        sides = sides_from(answer.get("sides"))
        down = [f"{name}: {side.error}" for name, side in sides.items() if side.state == "down"]
        if down:  # reads answer but writes cannot be made (or the other way): not up
            state, error = "down", "; ".join(down)
        return BackendStatus(
            backend=self.label,
            driver=self.driver,
            database=self.database,
            mappings=mappings,
            state=state,
            connected=self.connection is not None,
            failures=self.failures,
            total_failures=self.total_failures,
            retry_in=round(self.failed_until - now, 3) if resting else None,
            error=error,
            server=answer.get("server"),
            detail=answer.get("detail"),
            pools=pools_from(answer.get("pools")),
            sides=sides,
            misconfigured=misconfigured,
        )

    def mark_ok(self) -> None:
        with self.lock:
            if not self.failures:
                return
            log.info(
                "backend %s is back after %d failed calls over %.1f s",
                self.label,
                self.failures,
                _now() - self.down_since,
            )
            self.failures = 0
            self.failed_until = 0.0


class Route:
    __slots__ = ("backend", "mapping", "table")

    def __init__(self, mapping: Mapping, backend: Backend) -> None:
        self.mapping = mapping
        self.backend = backend
        self.table = mapping.table
