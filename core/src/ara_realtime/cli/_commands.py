"""The ``realtime`` command's commands: one handler each, its docstring is its help."""

from __future__ import annotations

import argparse
import functools
import importlib.metadata as md
import platform
import sys
from collections.abc import Callable
from pathlib import Path

from ..errors import RealtimeError
from ..plugins import default_plugins
from ..realtime import Realtime
from . import _template
from ._output import EXIT_BACKEND, EXIT_NOT_FOUND, EXIT_OK, PROG, _Out

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


def _cmd_status(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Each backend: what it serves, whether it answers, its pool, back-off and server.

    Like Asterisk's realtime show pgsql status, for every backend extconfig.conf maps: each
    is connected and asked for its server's version (a round trip). Exit status 3 when any
    backend does not answer or is failing.
    """
    report = rt.status(probe=True)
    if out.mode == "json":
        out.json([s.to_dict() for s in report])
    elif out.mode == "plain":
        for s in report:
            out.line(f"{s.backend}: {s.state}" + (f", {s.server}" if s.server else ""))
            for m in s.mappings:
                out.line(f"  serves {m}")
            for name, p in s.pools.items():
                out.line(f"  {name}: {p.in_use} in use, {p.idle} idle, at most {p.limit}")
            if s.failures or s.total_failures:
                out.line(f"  failures: {s.failures} in a row, {s.total_failures} in all")
            if s.retry_in is not None:
                out.line(f"  retried in {s.retry_in:.1f} s")
            if s.error:
                out.line(f"  error: {s.error}")
    else:
        out.table(
            None,
            ["Backend", "Serves", "State", "Server", "Pool in use/limit", "Failures"],
            [
                [
                    s.backend,
                    ", ".join(s.mappings),
                    s.state + (f" (retry in {s.retry_in:.1f} s)" if s.retry_in else ""),
                    s.server or (s.error or "-"),
                    ", ".join(f"{p.in_use}/{p.limit}" for p in s.pools.values()) or "-",
                    f"{s.failures} ({s.total_failures} in all)" if s.total_failures else "0",
                ]
                for s in report
            ],
        )
    return EXIT_OK if all(s.state == "up" for s in report) else EXIT_BACKEND


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


def _cmd_switch(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """What the realtime switch finds for a dialled number, and why.

    Looks EXTEN up as a `switch => Realtime/DATA` line in context CONTEXT would: exists,
    canmatch and matchmore, the application exec runs, the rule that decided, and every
    extension whose name matches, in dialplan order (the first wins). PRIORITY is a number
    (default 1) or hint. Exit status 1 when exists is no.
    """
    from ..switch import RealtimeSwitch  # noqa: PLC0415  (only this command needs it)

    priority = args.priority if args.priority is not None else 1
    report = RealtimeSwitch(rt).explain(
        args.context, args.exten, priority, callerid=args.callerid, data=args.data or ""
    )
    status = EXIT_OK if report.found else EXIT_NOT_FOUND
    if out.mode == "json":
        out.json(report.to_dict())
        return status
    prio = report.to_dict()["priority"]
    out.line(
        f"{report.spec} in context {args.context}: context {report.context!r} of family "
        f"{report.family!r}" + ("" if report.spec.patterns else ", patterns not searched")
    )
    out.line(
        f"{_count(report.rows, 'row')}; priority {prio}: "
        f"{_count(report.extensions, 'extension')} ({report.plain} plain, "
        f"{_count(report.patterns, 'pattern')})"
    )
    labels = {"match": "exists", "canmatch": "canmatch", "matchmore": "matchmore"}
    for mode, label in labels.items():
        m = report.results[mode]
        answer = "no" if m is None else f"yes  {m.exten}" + (" (early match)" if m.early else "")
        out.line(f"{label + ':':<11}{answer}")
    found = report.results["match"]
    if found is not None:
        out.line(f"{'exec:':<11}{found.app or '(no app)'}({found.appdata})")
    out.line(f"why: {report.why}")
    if report.candidates:
        more = report.candidates_total - len(report.candidates)
        out.table(
            "Extensions matching, in dialplan order (the first the caller ID allows wins):",
            ["Position", "Exten", "Kind", "Caller ID"],
            [
                [
                    str(c.position),
                    c.exten,
                    ("pattern" if c.pattern else "plain") + (", early" if c.early else ""),
                    "ok" if c.callerid_ok else "rejected",
                ]
                for c in report.candidates
            ],
        )
        if more > 0:
            out.line(f"... and {more} more")
    for problem in report.problems:
        out.line(f"note: {problem}")
    return status


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _cmd_function(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Evaluate a REALTIME dialplan function, as ${FUNCTION(...)} or Set(FUNCTION(...)=VALUE).

    FUNCTION is REALTIME, REALTIME_FIELD, REALTIME_HASH, REALTIME_STORE or REALTIME_DESTROY
    with Asterisk's comma-separated arguments, quoted as one shell word:
    realtime function 'REALTIME(sippeers,name,alice)'. Without VALUE the function is read
    and its value printed (then any channel variable it sets, as NAME=value); with VALUE it
    is written. Exit status 1 when no row was found or changed.
    """
    from ..functions import evaluate, parse_expression  # noqa: PLC0415

    name, _ = parse_expression(args.expression)
    result = evaluate(rt, args.expression, args.value)
    if out.mode == "json":
        out.json(
            {
                "function": name,
                "value": result.value,
                "variables": result.variables,
                "count": result.count,
            }
        )
    elif args.value is None:
        if result.value is not None:
            out.line(result.value)
        for var, val in result.variables.items():
            out.line(f"{var}={val}")
    elif name == "REALTIME_STORE":
        for var, val in result.variables.items():
            out.line(f"{var}={val}")
    elif name == "REALTIME_DESTROY":
        out.line(f"Removed {_records(result.count or 0)}.")
    else:
        out.line(f"Updated {_records(result.count or 0)}.")
    if args.value is None and result.value is None:
        return EXIT_NOT_FOUND
    if args.value is not None and name != "REALTIME_STORE" and not result.count:
        return EXIT_NOT_FOUND
    return EXIT_OK


def _cmd_new_driver(args: argparse.Namespace, out: _Out) -> int:
    """Create a ready package for a new driver.

    pyproject.toml with the entry points, a typed Connection implementing the contract over a
    Storage class (the one part to fill in), a conformance target with a back door and a real
    outage, the suite's tests, a CI workflow and a README, in ./ara-NAME (or --dir).
    """
    where, written = _template.create(args.name, Path(args.dir) if args.dir else None)
    if out.mode == "json":
        out.json({"directory": str(where), "files": [str(p) for p in written]})
        return EXIT_OK
    out.line(f"created {where} ({len(written)} files); fill in src/ara_{args.name}/storage.py,")
    out.line(f"then: cd {where} && pip install -e '.[test]' && pytest")
    return EXIT_OK
