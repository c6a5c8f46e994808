"""The exception hierarchy: one base, four kinds.

``RealtimeError``
    ``ConfigError``  a configuration file or setting is wrong (carries file and line)
    ``QueryError``   the caller asked something invalid (unknown column or operator, NUL, ...)
    ``BackendError`` the storage failed (connection lost, timeout, server error)
    ``NotSupported`` the driver does not offer that operation
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["BackendError", "ConfigError", "NotSupported", "QueryError", "RealtimeError"]


class RealtimeError(Exception):
    """Base class of every error ara-realtime raises on purpose."""


class ConfigError(RealtimeError):
    """A configuration file or setting is invalid.

    ``str(err)`` reads ``file:line: message`` when the place is known.
    """

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        super().__init__(self._render())

    def _render(self) -> str:
        if self.file is None:
            return self.message
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


class QueryError(RealtimeError, ValueError):
    """The request itself is wrong: unknown column, unknown operator, NUL in a value, ...

    Never triggers failover: the same request would be just as wrong on the next backend.
    """

    def __init__(
        self,
        message: str,
        *,
        family: str | None = None,
        table: str | None = None,
        field: str | None = None,
    ) -> None:
        self.family = family
        self.table = table
        self.field = field
        super().__init__(message)


class BackendError(RealtimeError):
    """The storage failed. Raised by the API only after every mapped backend failed.

    ``failures`` lists ``(backend, error)`` for each backend that was tried, in order.
    """

    def __init__(
        self,
        message: str,
        *,
        failures: Sequence[tuple[str, BaseException]] = (),
    ) -> None:
        self.failures = list(failures)
        super().__init__(message)


class NotSupported(RealtimeError):
    """The driver serving the family does not implement the operation."""
