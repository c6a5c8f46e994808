"""Output of the ``realtime`` command: its constants, a closed pipe, tables, rows and JSON."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE, EXIT_BACKEND, EXIT_UNSUPPORTED = 0, 1, 2, 3, 4
EXIT_OUTPUT_CLOSED = 141  # 128 + SIGPIPE, what `set -o pipefail` reports for `yes | head -1`
ENV_CONFIG_DIR = "ARA_REALTIME_CONFIG_DIR"
PROG = "realtime"
_HEADER = "{:>30}  {:<30}"
_MAX_UPDATE2_PAIRS = 5  # Asterisk's update2 takes at most 5 lookup pairs (argc 8-16)

_EPILOG = """\
exit status:
  0    done
  1    not found: no row matched, or an update or destroy changed no row
  2    usage or configuration error, or an invalid request (an unknown family,
       column or operator)
  3    backend failure: every backend mapped for the family failed
  4    the driver serving the family does not support the operation
  141  standard output was closed early (piped into head, for example)
"""


class _OutputClosed(Exception):
    """The reader of standard output went away (``realtime ... | head -1``)."""


@contextmanager
def _output_guard() -> Iterator[None]:
    """A closed pipe while writing our output becomes :class:`_OutputClosed`.

    Only our own writes are translated: a ``BrokenPipeError`` from anywhere else (a driver's
    socket) is a bug to see, not a reader that stopped reading.
    """
    try:
        yield
    except BrokenPipeError:
        raise _OutputClosed from None


#: Output is written in pieces this large: a single write larger than a pipe holds can return
#: short when the reader leaves (``| head -1``) and CPython then drops the rest silently,
#: where the next piece's write reports the closed pipe.
_CHUNK = 64 * 1024


def _write(stream: SupportsWrite[str], text: str) -> None:
    with _output_guard():
        if len(text) <= _CHUNK:
            stream.write(text)
            return
        flush = getattr(stream, "flush", None)
        for start in range(0, len(text), _CHUNK):
            stream.write(text[start : start + _CHUNK])
            if flush is not None:
                flush()


def _flush(stream: TextIO) -> None:
    with _output_guard():
        stream.flush()


def _discard_stdout() -> None:
    """Point standard output (and error, if it is the one closed) at devnull, so the
    interpreter's final flush cannot fail again.

    The recipe of Python's documentation (signal module, "Note on SIGPIPE").
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):  # a replaced stream (tests, embedding)
            continue
        if stream is sys.stderr and not _closed(fd):
            continue
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)


def _closed(fd: int) -> bool:
    """True if writing to ``fd`` fails with a closed pipe."""
    try:
        os.write(fd, b"")
    except BrokenPipeError:
        return True
    except OSError:
        return False
    return False


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _has_rich() -> bool:
    try:
        import rich  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


class _Out:
    """Renders results as JSON, Asterisk's plain text, or a rich table on a terminal.

    ``auto`` is a table when the output is a terminal and rich is installed, else plain text:
    a table squeezed into 80 columns is unreadable in a pipe or a file.
    """

    def __init__(self, mode: str, stream: TextIO) -> None:
        self.stream = stream
        if mode == "auto":
            mode = "table" if _is_terminal(stream) and _has_rich() else "plain"
        self.mode = mode

    def write(self, text: str) -> None:
        _write(self.stream, text)

    def line(self, text: str) -> None:
        self.write(text + "\n")

    def json(self, data: Any) -> None:
        self.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def table(
        self, title: str | None, headers: Sequence[str], rows: Sequence[Sequence[str]]
    ) -> None:
        if self.mode == "table":
            from rich.console import Console  # noqa: PLC0415
            from rich.table import Table  # noqa: PLC0415

            table = Table(title=title)
            for h in headers:
                table.add_column(h, overflow="fold")
            for r in rows:
                table.add_row(*r)
            # Rendered here and written by us: on a closed pipe rich itself would exit with
            # status 1, which means "not found" to our callers.
            console = Console(file=self.stream, soft_wrap=True)
            with console.capture() as captured:
                console.print(table)
            self.write(captured.get())
            return
        if title:
            self.line(title)
        widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
        self.line("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
        self.line("  ".join("-" * w for w in widths))
        for r in rows:
            self.line("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())

    def row(self, row: dict[str, str]) -> None:
        """One row the way Asterisk's ``realtime load`` prints it (or as a table / JSON)."""
        if self.mode == "json":
            self.json(row)
        elif self.mode == "plain":
            self.line(_HEADER.format("Column Name", "Column Value"))
            self.line(_HEADER.format("-" * 20, "-" * 20))
            for k, v in row.items():
                self.line(_HEADER.format(k, v))
        else:
            self.table(None, ["Column Name", "Column Value"], list(row.items()))
