"""The ``realtime`` command's commands: one handler each, its docstring is its help."""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.metadata as md
import logging
import platform
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..cache import (
    CACHE_FILE,
    FeedReport,
    install_change_feeds,
    read_cache_config,
    read_stats_dir,
    remove_change_feeds,
)
from ..errors import ConfigError, RealtimeError
from ..plugins import default_plugins
from ..realtime import Realtime
from ..status import BackendStatus
from . import _template
from ._output import EXIT_BACKEND, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, PROG, _Out, _write

log = logging.getLogger("ara_realtime.cli")

Handler = Callable[[argparse.Namespace, _Out], int]
RealtimeHandler = Callable[[Realtime, argparse.Namespace, _Out], int]


def _with_realtime(run: RealtimeHandler, *, cache: bool = False) -> Handler:
    """A command that works on the families of ``--config-dir`` (one call each: the realtime
    cache of ``realtime_cache.conf`` is left off unless the command is about it)."""

    @functools.wraps(run)
    def handler(args: argparse.Namespace, out: _Out) -> int:
        with Realtime.from_config_dir(args.config_dir, cache=cache) as rt:
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
    is connected and asked for its server's version (a round trip); where writes go to other
    servers than reads, each side is asked and shown with the server it reached. Exit status
    2 when a backend's settings are wrong, else 3 when any backend (or side) does not answer
    or is failing.
    """
    report = rt.status(probe=True)
    if out.mode == "json":
        out.json([s.to_dict() for s in report])
    elif out.mode == "plain":
        for s in report:
            out.line(f"{s.backend}: {s.state}" + (f", {s.server}" if s.server else ""))
            for m in s.mappings:
                out.line(f"  serves {m}")
            for line in _sides(s):
                out.line(f"  {line}")
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
                    "; ".join([*([s.server] if s.server else []), *_sides(s)]) or (s.error or "-"),
                    ", ".join(f"{p.in_use}/{p.limit}" for p in s.pools.values()) or "-",
                    f"{s.failures} ({s.total_failures} in all)" if s.total_failures else "0",
                ]
                for s in report
            ],
        )
    if any(s.misconfigured for s in report):
        return EXIT_USAGE
    return EXIT_OK if all(s.state == "up" for s in report) else EXIT_BACKEND


def _sides(s: BackendStatus) -> list[str]:
    """``reads: up (10.0.0.2:5432)``, ``writes: down (why)``: each side of a backend."""
    out = []
    for name, side in s.sides.items():
        if side.state == "up":
            out.append(f"{name}s: up" + (f" ({side.reached})" if side.reached else ""))
        else:
            out.append(f"{name}s: down" + (f" ({side.error})" if side.error else ""))
    return out


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


def _cmd_cache_stats(args: argparse.Namespace, out: _Out) -> int:
    """Show the realtime cache's counters in every running process.

    Hits, misses, answers served stale or despite a backend error, rows dropped by changes
    and evictions, per family; and per backend, how changes made elsewhere reach the cache.
    Processes write their counters to the stats_dir of realtime_cache.conf ([general]) every
    stats_interval seconds; exit status 1 when no running process has written any.
    """
    path = Path(args.config_dir) / CACHE_FILE
    if not path.exists():
        raise ConfigError(f"{path}: no such file: the realtime cache is not configured")
    config = read_cache_config(path)
    directory = config.limits.stats_dir
    if directory is None:
        raise ConfigError(
            "stats_dir is not set: processes write their counters only where [general] "
            "stats_dir names",
            str(path),
        )
    found, gone = read_stats_dir(directory) if directory.is_dir() else ([], [])
    if out.mode == "json":
        out.json([s.to_dict() for s in found])
        return EXIT_OK if found else EXIT_NOT_FOUND
    if not found:
        out.line(f"No running process has written cache counters to {directory}.")
        return EXIT_NOT_FOUND
    families = [
        [
            str(s.pid),
            f.family,
            str(f.hits),
            str(f.misses),
            "-" if f.hit_ratio is None else f"{f.hit_ratio:.1%}",
            str(f.stale_hits + f.error_hits),
            str(f.invalidations),
            str(f.evictions),
            str(f.entries),
            _size(f.bytes),
        ]
        for s in found
        for f in s.families
    ]
    out.table(
        "Families",
        [
            "PID",
            "Family",
            "Hits",
            "Misses",
            "Hit ratio",
            "Stale",
            "Dropped",
            "Evicted",
            "Entries",
            "Memory",
        ],
        families,
    )
    backends = [
        [
            str(s.pid),
            b.backend,
            b.feed,
            ", ".join(f"{t} {state}" for t, state in b.tables.items()) or "-",
            str(b.changes),
            b.last_error or "-",
        ]
        for s in found
        for b in s.backends
    ]
    out.table("Backends", ["PID", "Backend", "Feed", "Tables", "Changes", "Last error"], backends)
    if gone:
        out.line(f"({len(gone)} file(s) in {directory} left by processes that are gone)")
    return EXIT_OK


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    size = n / 1024
    for unit in ("KiB", "MiB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _feed_reports(reports: list[FeedReport], out: _Out) -> int:
    if out.mode == "json":
        out.json([asdict(r) for r in reports])
    else:
        out.table(
            None,
            ["Family", "Backend", "Table", "Feed", "Key", "Watched", "Error"],
            [
                [
                    r.family,
                    r.backend,
                    r.table,
                    r.feed,
                    r.key or "-",
                    "yes" if r.ready else "no",
                    r.error or "-",
                ]
                for r in reports
            ],
        )
    return EXIT_BACKEND if any(r.error for r in reports) else EXIT_OK


def _cmd_cache_install(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Install what the storage needs to report changes to the cached families' tables.

    On PostgreSQL: triggers that NOTIFY the listening caches of every change (by anyone),
    naming each family's key column. FAMILY defaults to every family realtime_cache.conf
    names. Storages that need nothing (SQLite) or cannot report changes are listed as they
    are. Exit status 3 when installing failed on a backend.
    """
    return _feed_reports(install_change_feeds(rt, args.families or None), out)


def _cmd_cache_remove(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Remove what cache install installed (the tables' change triggers).

    FAMILY defaults to every family realtime_cache.conf names.
    """
    return _feed_reports(remove_change_feeds(rt, args.families or None), out)


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
    is written. A read that finds no row prints nothing (the function's value is empty) and
    Asterisk's "No rows found matching search criteria." on standard error. Exit status 1
    when no row was found or changed.
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
        if out.mode != "json":
            _write(sys.stderr, "No rows found matching search criteria.\n")
        return EXIT_NOT_FOUND
    if args.value is not None and name != "REALTIME_STORE" and not result.count:
        return EXIT_NOT_FOUND
    return EXIT_OK


# -- schema and migration (need the schema extra: SQLAlchemy, alembic) ----------------------


def _schema_extra() -> None:
    """``ConfigError`` naming the extra when SQLAlchemy or alembic is not installed."""
    try:
        import alembic  # noqa: F401, PLC0415
        import sqlalchemy  # noqa: F401, PLC0415
    except ImportError as exc:
        raise ConfigError(
            f"this command needs the schema extra ({exc.name} is not installed): "
            "pip install 'ara-realtime[schema]'"
        ) from None


@contextlib.contextmanager
def _progress(out: _Out, total: int, what: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on standard error for ``total`` rows, when it is a terminal."""
    if out.mode == "json" or total < _PROGRESS_FROM or not sys.stderr.isatty():
        yield None
        return
    try:
        from rich.progress import Progress  # noqa: PLC0415
    except ImportError:
        yield None
        return
    with Progress(transient=True, console=_stderr_console()) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


#: Rows below which a progress bar is not worth drawing.
_PROGRESS_FROM = 200


def _stderr_console() -> Any:
    from rich.console import Console  # noqa: PLC0415

    return Console(stderr=True)


def _cmd_schema(args: argparse.Namespace, out: _Out) -> int:
    """Asterisk's tables: print their DDL, create them, or compare them with the database.

    With --dialect, print the CREATE statements of each FAMILY (every family when none is
    named) for that database: postgresql, mysql, mariadb or sqlite; ldap prints them as an
    OpenLDAP schema (cn=config LDIF), res_ldap as the res_ldap.conf sections mapping the
    tables onto it. With --create, create each
    FAMILY's table through its mappings in extconfig.conf (every priority), under the
    mapping's table name; NAME.conf or global names the static-configuration table; existing
    tables are left as they are. With --check, compare each FAMILY's live tables with the
    definitions and print what differs (exit status 1 when something does). Needs the
    schema extra.
    """
    _schema_extra()
    if args.dialect:
        from ..schema.ddl import SQL_DIALECTS, render  # noqa: PLC0415

        text = render(args.families, args.dialect)
        if out.mode != "json":
            out.write(text)
        elif args.dialect.lower() in SQL_DIALECTS:
            out.json({"dialect": args.dialect, "statements": [s for s in text.split(";\n\n") if s]})
        else:
            out.json({"dialect": args.dialect, "text": text})
        return EXIT_OK
    from ..schema.live import check, create  # noqa: PLC0415

    with Realtime.from_config_dir(args.config_dir) as rt:
        if args.create:
            done = create(rt, args.families)
            if out.mode == "json":
                out.json([vars(o) for o in done])
            else:
                out.table(
                    None,
                    ["Family", "Backend", "Table", "Action"],
                    [[o.family, o.backend, o.table, o.action] for o in done],
                )
            return EXIT_OK
        found = check(rt, args.families)
    if out.mode == "json":
        out.json([vars(d) for d in found])
    elif not found:
        out.line("Every table is as defined.")
    else:
        for d in found:
            out.line(str(d))
    return EXIT_OK if not found else EXIT_NOT_FOUND


def _cmd_config_import(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Write a .conf file into the static-configuration table of its mapping.

    FILE's categories become rows of the table extconfig.conf maps its name (or global) to,
    laid out so that loading them gives what the file gives; templates are kept as commented
    rows. An #include stays an #include row, and the included file is imported too when it is
    mapped, unless --follow-includes puts the included text into the file's own rows. All or
    nothing: the rows are written under a staging name, read back, then switched in; on any
    failure the table is left as it was. A file that already has rows needs --replace.
    """
    from ..migrate.static import import_plan, run_import  # noqa: PLC0415

    plan = import_plan(rt, args.file, name=args.name or None, follow_includes=args.follow_includes)
    if args.dry_run:
        rows = [
            [
                f.name,
                r.category,
                r.var_name,
                r.var_val,
                str(r.cat_metric),
                str(r.var_metric),
                str(r.commented),
            ]
            for f in plan.files
            for r in f.rows
        ]
        columns = [
            "filename",
            "category",
            "var_name",
            "var_val",
            "cat_metric",
            "var_metric",
            "commented",
        ]
        if out.mode == "json":
            out.json({"rows": [dict(zip(columns, r)) for r in rows], "notes": plan.notes})
        else:
            out.table(None, columns, rows)
            for note in plan.notes:
                out.line(f"note: {note}")
        return EXIT_OK
    with _progress(out, plan.row_count, "importing") as advance:
        run_import(rt, plan, replace=args.replace, progress=advance)
    summary = [
        {"file": f.name, "mapping": f.family, "rows": len(f.rows), "categories": len(f.parts)}
        for f in plan.files
    ]
    if out.mode == "json":
        out.json({"imported": summary, "notes": plan.notes})
    else:
        for s in summary:
            out.line(f"Imported {s['file']}: {s['rows']} rows through mapping {s['mapping']}.")
        for note in plan.notes:
            out.line(f"note: {note}")
    return EXIT_OK


def _cmd_config_export(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Write a file's rows from the static-configuration table back as .conf text.

    FILE's rows (as imported by realtime config import, or written by anyone) as a .conf
    file: templates and [name](bases) headers come back, #include rows become #include lines,
    commented rows are left out. To standard output, or to --output PATH.
    """
    from ..migrate.static import export_text  # noqa: PLC0415

    text, restored = export_text(rt, args.file)
    if restored.skipped:
        log.warning("%s: %d commented rows left out", args.file, restored.skipped)
    _emit(out, args.output, text)
    return EXIT_OK


def _emit(out: _Out, path: str | None, text: str) -> None:
    """``text`` to standard output, or into ``path`` (written whole, then renamed in)."""
    if not path:
        out.write(text)
        return
    target = Path(path)
    tmp = target.with_name(f".{target.name}.ara-tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None


def _cmd_import(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Turn a static file's objects into realtime rows.

    KIND names the file's objects: sippeers (sip.conf peers), iaxfriends (iax.conf),
    voicemail (voicemail.conf mailboxes), queues (queues.conf queues and their members) or
    pjsip (pjsip.conf objects, each into the ps_* table of its type=). Templates and
    inheritance are resolved; an option with no column is reported with its file and line
    and stops the import unless --drop-unknown leaves it out; so does a value Asterisk would
    read back differently from the file (several set_var lines where the database's codec
    stores ';' as ^3B). --dry-run shows the rows. All or nothing: rows whose keys exist need
    --replace; every row is read back, and on any failure the rows written are deleted and
    the replaced ones restored; the error names the object whose write failed and says so.
    """
    from ..migrate import kinds  # noqa: PLC0415

    plan = kinds.import_plan(rt, args.kind, args.file)
    blocking = plan.blocking(args.drop_unknown)
    if out.mode == "json":
        report: dict[str, Any] = {
            "rows": [
                {"family": r.family, "values": r.values, "from": r.origin} for r in plan.records
            ],
            "problems": [
                {"where": p.where, "message": p.message, "level": p.level} for p in plan.problems
            ],
            "skipped": plan.skipped,
        }
    if args.dry_run or blocking:
        if out.mode == "json":
            out.json(report)
        else:
            for family in plan.families:
                records = [r for r in plan.records if r.family == family]
                columns = list(dict.fromkeys(c for r in records for c in r.values))
                out.table(
                    family, columns, [[r.values.get(c, "") for c in columns] for r in records]
                )
            _report(out, plan)
        if blocking:
            raise ConfigError(
                f"{len(blocking)} problem(s) stop the import (listed above)"
                + (
                    "; --drop-unknown leaves unknown options out"
                    if not args.drop_unknown and any(p.level == "unknown" for p in blocking)
                    else ""
                )
            )
        return EXIT_OK
    if out.mode != "json":
        _report(out, plan)  # before writing: a failure below is read after what was found
    outcome = kinds.Outcome()
    try:
        with _progress(out, len(plan.records), "importing") as advance:
            kinds.run(
                rt,
                plan,
                replace=args.replace,
                drop_unknown=args.drop_unknown,
                progress=advance,
                outcome=outcome,
            )
    except RealtimeError as exc:
        if out.mode == "json":
            report["error"] = {
                "message": str(exc),
                "failed_at": outcome.failed_at,
                "restored": outcome.restored,
                "not_undone": outcome.left,
            }
            out.json(report)
        raise
    if out.mode == "json":
        report["stored"] = outcome.stored
        report["kept"] = outcome.kept
        out.json(report)
    else:
        for family, n in outcome.stored.items():
            out.line(f"Stored {n} row{'' if n == 1 else 's'} in {family}.")
        for family, n in outcome.kept.items():
            out.line(f"Kept {n} row{'' if n == 1 else 's'} already in {family}.")
    return EXIT_OK


def _report(out: _Out, plan: Any) -> None:
    for line in plan.skipped:
        out.line(f"skipped: {line}")
    for p in plan.problems:
        label = {"unknown": "unknown option", "error": "problem"}.get(p.level, p.level)
        out.line(f"{label}: {p}")


def _cmd_export(rt: Realtime, args: argparse.Namespace, out: _Out) -> int:
    """Write a family's rows back as the static file they came from.

    KIND as for realtime import: sippeers, iaxfriends, voicemail, queues, pjsip. Every row of
    the kind's families becomes a category (or a mailbox or member line), options in column
    order; columns the module writes itself at run time (a peer's address and registration)
    are left out. To standard output, or to --output PATH; what cannot be written is a
    warning.
    """
    from ..migrate import kinds  # noqa: PLC0415

    text, problems = kinds.export(rt, args.kind)
    for p in problems:
        log.warning("%s", p)
    _emit(out, args.output, text)
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
