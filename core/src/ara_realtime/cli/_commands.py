"""The ``realtime`` command's commands: one handler each, its docstring is its help."""

from __future__ import annotations

import argparse
import functools
import importlib.metadata as md
import platform
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

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
from ._output import EXIT_BACKEND, EXIT_NOT_FOUND, EXIT_OK, PROG, _Out

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
