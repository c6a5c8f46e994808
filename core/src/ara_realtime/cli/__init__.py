"""The ``realtime`` command: Asterisk's ``realtime`` CLI verbs plus listings.

Exit status: 0 done, 1 not found (no row, or no row changed), 2 usage or configuration
error, 3 backend failure, 4 operation not supported by the driver, 141 standard output
closed before everything was written (``realtime ... | head -1``: the status a shell shows
for a command ended by SIGPIPE).

A failure is one ``realtime: error: ...`` line on standard error, after the command's usage
line when the command was typed wrong. Problems worked around on the way (an ignored
configuration line, a backend that failed over) are ``realtime: warning: ...`` lines
printed when the command ends, without the ones the error line repeats.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from ..errors import BackendError, NotSupported, RealtimeError
from ._commands import Handler
from ._output import (
    ENV_CONFIG_DIR,
    EXIT_BACKEND,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_OUTPUT_CLOSED,
    EXIT_UNSUPPORTED,
    EXIT_USAGE,
    PROG,
    _discard_stdout,
    _flush,
    _Out,
    _OutputClosed,
    _write,
)
from ._parser import _parse

__all__ = [
    "ENV_CONFIG_DIR",
    "EXIT_BACKEND",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_OUTPUT_CLOSED",
    "EXIT_UNSUPPORTED",
    "EXIT_USAGE",
    "main",
]


class _HeldWarnings(logging.Handler):
    """Library warnings, held until the command ends so a failure is reported once."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def repeated_by(self, error: RealtimeError) -> None:
        """Forget warnings that announced a failure the error message lists again."""
        if not isinstance(error, BackendError):
            return
        failures = [exc for _, exc in error.failures]

        def repeated(record: logging.LogRecord) -> bool:
            args = record.args.values() if isinstance(record.args, Mapping) else record.args or ()
            return any(arg is exc for arg in args for exc in failures)

        self.records = [r for r in self.records if not repeated(r)]


@contextmanager
def _holding_warnings() -> Iterator[_HeldWarnings]:
    held = _HeldWarnings()
    root = logging.getLogger()
    root.addHandler(held)
    try:
        yield held
    finally:
        root.removeHandler(held)
        for record in held.records:
            _write(sys.stderr, f"{PROG}: warning: {record.getMessage()}\n")


def _failure(exc: RealtimeError) -> tuple[int, str]:
    if isinstance(exc, BackendError):
        return EXIT_BACKEND, f"backend failure: {exc}"
    if isinstance(exc, NotSupported):
        return EXIT_UNSUPPORTED, f"not supported: {exc}"
    # ConfigError, QueryError: the request cannot be served as given
    return EXIT_USAGE, str(exc)


def _main(argv: Sequence[str] | None) -> int:
    error: RealtimeError | None = None
    with _holding_warnings() as held:
        try:
            args = _parse(argv)
        except SystemExit as exc:  # argparse has printed the usage and error, help or version
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        run: Handler = args.run
        try:
            status = run(args, _Out(args.mode, sys.stdout))
        except RealtimeError as exc:
            held.repeated_by(exc)
            error = exc
    if error is None:
        return status
    status, message = _failure(error)
    _write(sys.stderr, f"{PROG}: error: {message}\n")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``realtime`` command; returns the exit status."""
    try:
        status = _main(argv)
        _flush(sys.stdout)  # now, while a closed pipe can still be handled
    except _OutputClosed:
        _discard_stdout()
        return EXIT_OUTPUT_CLOSED
    return status
