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

import argparse
import functools
import importlib.metadata as md
import inspect
import json
import logging
import os
import platform
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from .errors import BackendError, NotSupported, RealtimeError
from .plugins import default_plugins
from .realtime import Realtime

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

__all__ = ["main"]

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


# -- output ------------------------------------------------------------------------------


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


def _write(stream: SupportsWrite[str], text: str) -> None:
    with _output_guard():
        stream.write(text)


def _flush(stream: TextIO) -> None:
    with _output_guard():
        stream.flush()


def _discard_stdout() -> None:
    """Point standard output at devnull so the interpreter's final flush cannot fail again.

    The recipe of Python's documentation (signal module, "Note on SIGPIPE").
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # a replaced stream (tests, embedding)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


class _Out:
    """Renders results as JSON, Asterisk's plain text, or a rich table when available."""

    def __init__(self, mode: str, stream: TextIO) -> None:
        self.stream = stream
        if mode == "auto":
            try:
                import rich  # noqa: F401, PLC0415
            except ImportError:
                mode = "plain"
            else:
                mode = "table"
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


# -- commands ----------------------------------------------------------------------------

Handler = Callable[[argparse.Namespace, _Out], int]
RealtimeHandler = Callable[[Realtime, argparse.Namespace, _Out], int]


def _with_realtime(run: RealtimeHandler) -> Handler:
    """A command that works on the families of ``--config-dir``."""

    @functools.wraps(run)
    def handler(args: argparse.Namespace, out: _Out) -> int:
        with Realtime.from_config_dir(args.config_dir) as rt:
            return run(rt, args, out)

    return handler


def _cmd_load(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Show one row (Asterisk's realtime load).

    The first row of FAMILY where COLUMN matches VALUE.
    """
    row = rt.load(args.family, (args.column, args.value))
    if row is None:
        if out.mode == "json":
            out.json(None)
        else:
            out.line("No rows found matching search criteria.")
        return EXIT_NOT_FOUND
    out.row(row)
    return EXIT_OK


def _cmd_load_multi(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Show every matching row.

    Every row of FAMILY where every COL VAL pair matches, as a table.
    """
    rows = rt.load_multi(args.family, *args.pairs)
    if out.mode == "json":
        out.json(rows)
    elif not rows:
        out.line("No rows found matching search criteria.")
    else:
        columns: list[str] = []
        for r in rows:
            columns.extend(c for c in r if c not in columns)
        out.table(None, columns, [[r.get(c, "") for c in columns] for r in rows])
    return EXIT_OK if rows else EXIT_NOT_FOUND


def _records(n: int) -> str:
    return f"{n} RealTime record{'' if n == 1 else 's'}"


def _cmd_update(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Change a column in matching rows (Asterisk's realtime update).

    Sets SETCOL to NEWVALUE in every row of FAMILY where COLUMN matches VALUE.
    """
    n = rt.update(args.family, args.column, args.value, {args.set_column: args.set_value})
    out.json({"updated": n}) if out.mode == "json" else out.line(f"Updated {_records(n)}.")
    return EXIT_OK if n else EXIT_NOT_FOUND


def _cmd_update2(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Change a column in rows matching several columns (Asterisk's realtime update2).

    Sets SETCOL to NEWVALUE in every row of FAMILY where every COL VAL pair matches (1 to 5
    pairs). The word NULL separates the pairs from the change.
    """
    n = rt.update2(args.family, args.pairs, {args.set_column: args.set_value})
    out.json({"updated": n}) if out.mode == "json" else out.line(f"Updated {_records(n)}.")
    return EXIT_OK if n else EXIT_NOT_FOUND


def _cmd_store(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Insert a row (Asterisk's realtime store).

    Inserts into FAMILY a row with the given columns and values.
    """
    n = rt.store(args.family, dict(args.pairs))
    out.json({"stored": n}) if out.mode == "json" else out.line("Stored RealTime record.")
    return EXIT_OK


def _cmd_destroy(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Delete matching rows (Asterisk's realtime destroy).

    Deletes every row of FAMILY where KEYCOL matches KEYVALUE and every further COL VAL pair
    matches.
    """
    (key, lookup), extra = args.pairs[0], args.pairs[1:]
    n = rt.destroy(args.family, key, lookup, *extra)
    out.json({"removed": n}) if out.mode == "json" else out.line(f"Removed {_records(n)}.")
    return EXIT_OK if n else EXIT_NOT_FOUND


def _cmd_mappings(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Every family and file mapping (Asterisk's core show config mappings).

    The mappings of extconfig.conf, by driver.
    """
    mappings = rt.mappings
    if out.mode == "json":
        out.json(
            [
                {
                    "name": m.name,
                    "driver": m.driver,
                    "database": m.database,
                    "table": m.table,
                    "priority": m.priority,
                    "defined_at": m.where,
                }
                for m in mappings
            ]
        )
        return EXIT_OK
    installed = set(default_plugins().driver_names())
    for driver in sorted({m.driver for m in mappings}):
        note = "" if driver in installed else " (not installed)"
        out.line(f"Config Engine: {driver}{note}")
        for m in mappings:
            if m.driver == driver:
                prio = f", priority={m.priority}" if m.priority != 1 else ""
                out.line(f"===> {m.name} (db={m.database}, table={m.table}{prio})")
    return EXIT_OK


def _cmd_drivers(args: argparse.Namespace, out: _Out) -> int:
    """List the installed drivers.

    Each driver's version, distribution and supported operations.
    """
    infos = default_plugins().describe()
    if out.mode == "json":
        out.json(
            [
                {
                    "name": i.name,
                    "version": i.version,
                    "distribution": i.distribution,
                    "module": i.module,
                    "builtin": i.builtin,
                    "hooks": list(i.hooks),
                    "capabilities": i.capabilities.to_dict() if i.capabilities else None,
                    "error": i.error,
                }
                for i in infos
            ]
        )
        return EXIT_OK
    rows = []
    for i in infos:
        caps = (
            ", ".join(op for op in i.hooks if i.capabilities and i.capabilities.supports(op))
            if i.error is None
            else f"error: {i.error}"
        )
        rows.append([i.name, i.version or "-", i.distribution or "-", caps])
    out.table(None, ["Driver", "Version", "Distribution", "Capabilities"], rows)
    return EXIT_OK


def _cmd_config_show(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Print a configuration file as loaded.

    FILE as Asterisk would load it: from the database table extconfig.conf maps it to, else
    from the configuration directory.
    """
    cfg = rt.load_config(args.file)
    if out.mode == "json":
        out.json(cfg.to_dict())
    else:
        out.write(cfg.to_text())
    return EXIT_OK


def _version_text() -> str:
    """``realtime --version``: what a bug report needs, one fact per line."""
    try:
        core = md.version("ara-realtime")
    except md.PackageNotFoundError:
        core = "(not installed)"
    lines = [
        f"{PROG} (ara-realtime) {core}",
        f"Python {platform.python_version()} ({platform.python_implementation()}, {sys.platform})",
    ]
    try:
        infos = default_plugins().describe()
    except RealtimeError as exc:
        lines.append(f"drivers: cannot be listed: {exc}")
    else:
        for i in infos:
            source = f"{i.distribution} {i.version}" if i.distribution else i.module
            problem = f" (cannot be loaded: {i.error})" if i.error else ""
            lines.append(f"driver {i.name}: {source}{problem}")
    return "\n".join(lines) + "\n"


# -- checks after parsing (argparse cannot count pairs) -----------------------------------


def _pairs(
    args: argparse.Namespace, words: Sequence[str], where: str = ""
) -> list[tuple[str, str]]:
    if len(words) % 2:
        _usage(
            args,
            f"expected COL VAL pairs{where}, got {len(words)} word{'s' if len(words) > 1 else ''}"
            f": {words[-1]!r} has no value",
        )
    return list(zip(words[::2], words[1::2]))


def _prepare_pairs(args: argparse.Namespace) -> None:
    args.pairs = _pairs(args, args.pairs)


def _prepare_destroy(args: argparse.Namespace) -> None:
    args.pairs = [(args.key_column, args.key_value), *_pairs(args, args.pairs)]


def _prepare_update2(args: argparse.Namespace) -> None:
    if args.null != "NULL":
        _usage(
            args,
            f"the third word from the end must be NULL (... NULL SETCOL NEWVAL), got {args.null!r}",
        )
    args.pairs = _pairs(args, args.pairs, " before NULL")
    if len(args.pairs) > _MAX_UPDATE2_PAIRS:
        _usage(args, f"at most {_MAX_UPDATE2_PAIRS} COL VAL pairs, got {len(args.pairs)}")


def _usage(args: argparse.Namespace, message: str) -> NoReturn:
    """A mistake argparse could not see: usage and one error line, like its own errors."""
    parser: argparse.ArgumentParser = args.command_parser
    parser.error(message)


# -- parser ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Usage errors read ``realtime: error: [COMMAND: ]MESSAGE`` after the command's usage."""

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        # argparse would drop a closed pipe silently (status 0); report it like any output
        _write(file or sys.stdout, self.format_help())

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        command = self.prog.removeprefix(PROG).strip()
        self.exit(EXIT_USAGE, f"{PROG}: error: {command + ': ' if command else ''}{message}\n")


class _Format(argparse.Action):
    """``--json`` / ``--plain``, accepted before the command and after its words.

    Each parser has its own copy and argparse's exclusive group only sees one parser, so the
    copies share ``chosen`` to refuse ``--json load ... --plain`` as well.
    """

    def __init__(
        self,
        option_strings: Sequence[str],
        dest: str,
        *,
        const: str,
        chosen: dict[str, str],
        default: Any = argparse.SUPPRESS,
        help: str | None = None,
    ) -> None:
        super().__init__(option_strings, dest, nargs=0, const=const, default=default, help=help)
        self.chosen = chosen

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        for mode, flag in self.chosen.items():
            if mode != self.const:
                parser.error(f"argument {option_string}: not allowed with argument {flag}")
        self.chosen.setdefault(self.const, option_string or self.const)
        setattr(namespace, self.dest, self.const)


class _Version(argparse.Action):
    """``--version``: built only when asked, since listing drivers imports them."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        _write(sys.stdout, _version_text())
        parser.exit(EXIT_OK)


def _add_common(parser: argparse.ArgumentParser, chosen: dict[str, str], *, top: bool) -> None:
    """``--config-dir``, ``--json``, ``--plain`` on one parser.

    Below the top level the defaults are ``SUPPRESS``: a subcommand's namespace is copied
    over the top one, and a default there would undo an option given before the command.
    """
    group = parser.add_argument_group("common options (before the command or after its words)")
    group.add_argument(
        "--config-dir",
        metavar="DIR",
        default=os.environ.get(ENV_CONFIG_DIR, "/etc/asterisk") if top else argparse.SUPPRESS,
        help=f"directory holding extconfig.conf and the drivers' res_*.conf files "
        f"(default: ${ENV_CONFIG_DIR}, else /etc/asterisk)",
    )
    fmt = group.add_mutually_exclusive_group()
    default = "auto" if top else argparse.SUPPRESS
    fmt.add_argument(
        "--json",
        dest="mode",
        action=_Format,
        const="json",
        chosen=chosen,
        default=default,
        help="print JSON",
    )
    fmt.add_argument(
        "--plain",
        dest="mode",
        action=_Format,
        const="plain",
        chosen=chosen,
        default=default,
        help="print plain text, as Asterisk's own CLI does (default: a table when rich is "
        "installed, else plain)",
    )


Prepare = Callable[[argparse.Namespace], None]

_PAIR = 'a column (an operator may follow, quoted: "name LIKE") and the value to match'

#: Positional arguments: key -> (dest, nargs, metavar, help); help goes through %-formatting.
_ARGS: dict[str, tuple[str, str | None, str, str]] = {
    "family": ("family", None, "FAMILY", "a family mapped in extconfig.conf: sippeers, ..."),
    "column": (
        "column",
        None,
        "COLUMN",
        'column to match; an operator may follow in the same argument, quoted: "name LIKE" '
        "(one of = != < <= > >= LIKE, NOT LIKE; default =)",
    ),
    "value": ("value", None, "VALUE", "value to match (LIKE: %% any text, _ any character)"),
    "set_column": ("set_column", None, "SETCOL", "column to change"),
    "set_value": ("set_value", None, "NEWVALUE", "its new value"),
    "null": ("null", None, "NULL", "the word NULL, ending the COL VAL pairs"),
    "key_column": ("key_column", None, "KEYCOL", "the key column to match, as COLUMN above"),
    "key_value": ("key_value", None, "KEYVALUE", "the value to match, as VALUE above"),
    "lookup": ("pairs", "+", "COL VAL", _PAIR),
    "more": ("pairs", "*", "COL VAL", f"more conditions: {_PAIR}"),
    "row": ("pairs", "+", "COL VAL", "a column of the new row and its value"),
    "file": ("file", None, "FILE", "a file name as in extconfig.conf: queues.conf, ..."),
}

#: Every command: its words, handler (whose docstring is its help), the check run after
#: parsing, and its positional arguments. A new command is one more line.
_COMMANDS: tuple[tuple[str, Handler, Prepare | None, str], ...] = (
    ("load", _with_realtime(_cmd_load), None, "family column value"),
    ("update", _with_realtime(_cmd_update), None, "family column value set_column set_value"),
    (
        "update2",
        _with_realtime(_cmd_update2),
        _prepare_update2,
        "family lookup null set_column set_value",
    ),
    ("store", _with_realtime(_cmd_store), _prepare_pairs, "family row"),
    ("destroy", _with_realtime(_cmd_destroy), _prepare_destroy, "family key_column key_value more"),
    ("load-multi", _with_realtime(_cmd_load_multi), _prepare_pairs, "family lookup"),
    ("show mappings", _with_realtime(_cmd_mappings), None, ""),
    ("drivers", _cmd_drivers, None, ""),
    ("config show", _with_realtime(_cmd_config_show), None, "file"),
)

#: Words that only group commands.
_GROUPS = {"show": "Show how families map to storage.", "config": "Static configuration files."}


def _parser() -> _Parser:
    """The whole command line, built from ``_COMMANDS``."""
    chosen: dict[str, str] = {}
    top = _Parser(
        prog=PROG,
        description="Query and change Asterisk realtime families through ara-realtime.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument(
        "--version",
        action=_Version,
        help="print the versions of ara-realtime, Python and every driver, then exit",
    )
    _add_common(top, chosen, top=True)
    subparsers = {
        "": top.add_subparsers(
            dest="command",
            required=True,
            metavar="COMMAND",
            help="one of these; realtime COMMAND --help explains it",
        )
    }

    def add(words: str, description: str) -> _Parser:
        group, _, name = words.rpartition(" ")
        summary = description.split("\n", 1)[0].rstrip(".")
        c = subparsers[group].add_parser(
            name,
            help=summary[0].lower() + summary[1:],
            description=description,
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _add_common(c, chosen, top=False)
        return c

    for words, run, prepare, positionals in _COMMANDS:
        group = words.rpartition(" ")[0]
        if group and group not in subparsers:
            g = add(group, _GROUPS[group])
            subparsers[group] = g.add_subparsers(
                dest="what",
                required=True,
                metavar="WHAT",
                help=f"one of these; realtime {group} WHAT --help explains it",
            )
        c = add(words, inspect.getdoc(run) or "")
        for key in positionals.split():
            dest, nargs, metavar, help_text = _ARGS[key]
            c.add_argument(dest, nargs=nargs, metavar=metavar, help=help_text)
        c.set_defaults(run=run, prepare=prepare, command_parser=c)
    return top


# -- running -----------------------------------------------------------------------------


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
            print(f"{PROG}: warning: {record.getMessage()}", file=sys.stderr)


def _failure(exc: RealtimeError) -> tuple[int, str]:
    if isinstance(exc, BackendError):
        return EXIT_BACKEND, f"backend failure: {exc}"
    if isinstance(exc, NotSupported):
        return EXIT_UNSUPPORTED, f"not supported: {exc}"
    # ConfigError, QueryError: the request cannot be served as given
    return EXIT_USAGE, str(exc)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The checked command line; ``SystemExit`` after a usage error, ``--help``, ``--version``."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # blame the command they were given to, not the top level
        blamed: argparse.ArgumentParser = getattr(args, "command_parser", parser)
        stray_words = any(not word.startswith("-") for word in extra)
        hint = " (options go before the command or after all of its arguments)"
        blamed.error(f"unrecognized arguments: {' '.join(extra)}{hint if stray_words else ''}")
    if args.prepare is not None:
        args.prepare(args)
    return args


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
    print(f"{PROG}: error: {message}", file=sys.stderr)
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


if __name__ == "__main__":
    sys.exit(main())
