"""The ``realtime`` command: Asterisk's ``realtime`` CLI verbs plus listings.

Exit status: 0 done, 1 not found (no row, or no row changed), 2 usage or configuration
error, 3 backend failure, 4 operation not supported by the driver.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from .errors import BackendError, ConfigError, NotSupported, QueryError, RealtimeError
from .plugins import default_plugins
from .realtime import Realtime

__all__ = ["main"]

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE, EXIT_BACKEND, EXIT_UNSUPPORTED = 0, 1, 2, 3, 4
ENV_CONFIG_DIR = "ARA_REALTIME_CONFIG_DIR"
_HEADER = "{:>30}  {:<30}"


class _Usage(Exception):
    """A usage error found after argparse (wrong argument count, ...)."""


def _pairs(words: Sequence[str], what: str) -> list[tuple[str, str]]:
    if not words or len(words) % 2:
        raise _Usage(f"{what}: expected column/value pairs, got {len(words)} word(s)")
    return list(zip(words[::2], words[1::2]))


# -- output ------------------------------------------------------------------------------


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

    def line(self, text: str) -> None:
        print(text, file=self.stream)

    def json(self, data: Any) -> None:
        json.dump(data, self.stream, indent=2, ensure_ascii=False)
        self.stream.write("\n")

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
            Console(file=self.stream, soft_wrap=True).print(table)
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


def _cmd_load(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
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
    rows = rt.load_multi(args.family, *_pairs(args.pairs, "load-multi"))
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
    n = rt.update(args.family, args.column, args.value, {args.set_column: args.set_value})
    out.json({"updated": n}) if out.mode == "json" else out.line(f"Updated {_records(n)}.")
    return EXIT_OK if n else EXIT_NOT_FOUND


def _cmd_update2(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    words = args.words
    if len(words) < 5 or len(words) % 2 == 0 or words[-3] != "NULL" or len(words) > 13:
        raise _Usage(
            "update2: expected <col> <val> [... up to 5 pairs] NULL <colupdate> <newvalue>"
        )
    lookup = _pairs(words[:-3], "update2")
    n = rt.update2(args.family, lookup, {words[-2]: words[-1]})
    out.json({"updated": n}) if out.mode == "json" else out.line(f"Updated {_records(n)}.")
    return EXIT_OK if n else EXIT_NOT_FOUND


def _cmd_store(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    n = rt.store(args.family, dict(_pairs(args.pairs, "store")))
    out.json({"stored": n}) if out.mode == "json" else out.line("Stored RealTime record.")
    return EXIT_OK


def _cmd_destroy(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    pairs = _pairs(args.pairs, "destroy")
    (key, lookup), extra = pairs[0], pairs[1:]
    n = rt.destroy(args.family, key, lookup, *extra)
    out.json({"removed": n}) if out.mode == "json" else out.line(f"Removed {_records(n)}.")
    return EXIT_OK if n else EXIT_NOT_FOUND


def _cmd_mappings(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
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
    cfg = rt.load_config(args.file)
    if out.mode == "json":
        out.json(cfg.to_dict())
    else:
        out.stream.write(cfg.to_text())
    return EXIT_OK


# -- parser ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="realtime",
        description="Query and change Asterisk realtime families through ara-realtime.",
    )
    p.add_argument(
        "--config-dir",
        default=os.environ.get(ENV_CONFIG_DIR, "/etc/asterisk"),
        help=f"directory holding extconfig.conf and res_*.conf (default ${ENV_CONFIG_DIR} "
        "or /etc/asterisk)",
    )
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", dest="mode", action="store_const", const="json", help="JSON output")
    fmt.add_argument(
        "--plain",
        dest="mode",
        action="store_const",
        const="plain",
        help="plain text exactly as Asterisk prints it",
    )
    p.set_defaults(mode="auto")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("load", help="show one row: load <family> <column> <value>")
    c.add_argument("family")
    c.add_argument("column", help='a column, optionally with an operator: "name LIKE"')
    c.add_argument("value")
    c.set_defaults(run=_cmd_load)

    c = sub.add_parser("load-multi", help="show every matching row: <family> <col> <val> ...")
    c.add_argument("family")
    c.add_argument("pairs", nargs="+", metavar="COL VAL")
    c.set_defaults(run=_cmd_load_multi)

    c = sub.add_parser(
        "update", help="update <family> <colmatch> <valuematch> <colupdate> <newvalue>"
    )
    for name in ("family", "column", "value", "set_column", "set_value"):
        c.add_argument(name)
    c.set_defaults(run=_cmd_update)

    c = sub.add_parser(
        "update2", help="update2 <family> <col> <val> [...] NULL <colupdate> <newvalue>"
    )
    c.add_argument("family")
    c.add_argument("words", nargs="+", metavar="WORD")
    c.set_defaults(run=_cmd_update2)

    c = sub.add_parser("store", help="store <family> <col1> <val1> [... up to 5 pairs]")
    c.add_argument("family")
    c.add_argument("pairs", nargs="+", metavar="COL VAL")
    c.set_defaults(run=_cmd_store)

    c = sub.add_parser("destroy", help="destroy <family> <keycol> <keyval> [<col> <val> ...]")
    c.add_argument("family")
    c.add_argument("pairs", nargs="+", metavar="COL VAL")
    c.set_defaults(run=_cmd_destroy)

    show = sub.add_parser("show", help="show mappings")
    show_sub = show.add_subparsers(dest="what", required=True)
    show_sub.add_parser("mappings", help="every family and file mapping").set_defaults(
        run=_cmd_mappings
    )

    sub.add_parser("drivers", help="list installed drivers").set_defaults(run=None)

    config = sub.add_parser("config", help="config show FILE")
    config_sub = config.add_subparsers(dest="what", required=True)
    c = config_sub.add_parser("show", help="print a configuration file as loaded")
    c.add_argument("file")
    c.set_defaults(run=_cmd_config_show)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``realtime`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    out = _Out(args.mode, sys.stdout)
    run: Callable[[Realtime, argparse.Namespace, _Out], int] | None = args.run
    try:
        if run is None:
            return _cmd_drivers(args, out)
        with Realtime.from_config_dir(args.config_dir) as rt:
            return run(rt, args, out)
    except _Usage as exc:
        parser.print_usage(sys.stderr)
        print(f"realtime: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ConfigError, QueryError) as exc:
        print(f"realtime: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BackendError as exc:
        print(f"realtime: backend failure: {exc}", file=sys.stderr)
        return EXIT_BACKEND
    except NotSupported as exc:
        print(f"realtime: not supported: {exc}", file=sys.stderr)
        return EXIT_UNSUPPORTED
    except RealtimeError as exc:  # pragma: no cover - every subclass is handled above
        print(f"realtime: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
