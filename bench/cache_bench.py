"""The realtime cache: repeated ``Realtime.load`` of one peer, cached beside uncached, same run.

    python bench/cache_bench.py [--rows 20000] [--rounds 15] [--samples 20] [--no-pgsql]

What it shows, each in the same run as its baseline:

* sqlite3: ``Realtime.load`` of one peer through the cache (``ara_bind``: plain Python per
  call) beside the same call without a cache, and beside the naive design, a cache written as
  a pluggy interceptor (``@hookimpl(tryfirst=True) ara_load``), which pays hook dispatch on
  every hit; client CPU microseconds per call are the figure (target: a hit <= 2 us where an
  uncached call costs 7 us; the hit is scaled by this machine's own uncached figure);
* PostgreSQL (a throwaway server, ``ara_testservers``): the same, cached beside uncached
  (target: >= 20x the uncached rate);
* PostgreSQL, coherence: another process changes the peer through its own ``Realtime``
  (``--samples`` times); how long until the first process's cached ``load`` returns the new
  row, from the other process's commit (target: within 1 s, every time);
* PostgreSQL, outage: the server is stopped; the cached peer is still answered.

Alternating short rounds (A B B A ...), median of the per-round ratios with its spread, client
CPU microseconds per call (``time.process_time``); see ``bench/_harness.py``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from _harness import compare, print_table
from sqlite_load import build

from ara_realtime import Realtime, hookimpl
from ara_realtime.cache import CachePolicy, RealtimeCache, install_change_feeds
from ara_realtime.conditions import parse_pair
from ara_realtime.plugins import Plugins
from ara_testservers import PostgresServer

PEER = "peer000042"
HIT_CPU_TARGET = 2.0  # us of client CPU per cached Realtime.load (sqlite3) ...
REFERENCE_UNCACHED = 7.0  # ... where an uncached one costs this much
PG_RATIO_TARGET = 20.0
LATENCY_TARGET = 1.0  # s


class InterceptorCache:
    """The naive design: a dict consulted by a tryfirst ara_load (pluggy on every call)."""

    def __init__(self) -> None:
        self.rows: dict[Any, Any] = {}

    @hookimpl(tryfirst=True)
    def ara_load(self, table: str, conditions: Any) -> Any:
        row = self.rows.get((table, conditions))
        return row.copy() if row is not None else None

    @hookimpl(wrapper=True)
    def ara_load_multi(self) -> Any:  # present so the plugin wraps like a cache would
        return (yield)


def _loader(rt: Realtime) -> Any:
    def run(n: int) -> None:
        load = rt.load
        for _ in range(n):
            load("sippeers", ("name", PEER))

    return run


def bench_sqlite(rows: int, rounds: int, ops: int) -> tuple[list[Any], list[str]]:
    tmp = tempfile.TemporaryDirectory()
    db = Path(tmp.name) / "bench.db"
    build(db, rows)
    drivers = {"sqlite3": {"bench": {"dbfile": str(db)}}}
    plain = Realtime({"sippeers": "sqlite3,bench"}, drivers, plugins=Plugins())
    cached = Realtime({"sippeers": "sqlite3,bench"}, drivers, plugins=Plugins())
    cache = RealtimeCache({"sippeers": CachePolicy()}).attach(cached)
    cached.load("sippeers", name=PEER)
    assert cache.wait_coherent(10), "the sqlite3 feed did not start"
    naive_plugins = Plugins()
    naive = InterceptorCache()
    naive_plugins.add_plugin(naive)
    intercepted = Realtime({"sippeers": "sqlite3,bench"}, drivers, plugins=naive_plugins)
    row = plain.load("sippeers", name=PEER)
    naive.rows[("sippeers", parse_pair("name", PEER, "sippeers"))] = row
    assert intercepted.load("sippeers", ("name", PEER)) == row
    assert cached.load("sippeers", ("name", PEER)) == row
    misses = cache.stats().family("sippeers").misses
    results = [
        compare(
            "sqlite3: cached / uncached", _loader(cached), _loader(plain), ops=ops, rounds=rounds
        ),
        compare(
            "sqlite3: pluggy interceptor / uncached",
            _loader(intercepted),
            _loader(plain),
            ops=ops,
            rounds=rounds,
        ),
    ]
    hit_cpu, uncached_cpu = results[0].ours.median_cpu, results[0].raw.median_cpu
    # the target is set where an uncached call costs REFERENCE_UNCACHED us: this machine's
    # speed (shared, often loaded) is taken out by scaling with its own uncached figure
    scaled = hit_cpu * REFERENCE_UNCACHED / uncached_cpu
    ok = scaled <= HIT_CPU_TARGET
    checks = [
        f"{'' if ok else 'FAIL '}sqlite3: a hit costs {hit_cpu:.2f} us of client CPU here, "
        f"where an uncached call costs {uncached_cpu:.2f} us: {scaled:.2f} us where it costs "
        f"{REFERENCE_UNCACHED:g} us (target {HIT_CPU_TARGET:g} us); the pluggy interceptor "
        f"{results[1].ours.median_cpu:.2f} us; misses during the rounds: "
        f"{cache.stats().family('sippeers').misses - misses}"
    ]
    for rt in (plain, cached, intercepted):
        rt.close()
    cache.close()
    tmp.cleanup()
    return results, checks


_OTHER = """
import sys, time
from ara_realtime import Realtime
rt = Realtime({{"sippeers": "pgsql,bench"}}, {{"pgsql": {{"bench": {settings!r}}}}})
rt.load("sippeers", name={peer!r})
for line in sys.stdin:
    rt.update("sippeers", "name", {peer!r}, {{"useragent": line.strip()}})
    print(time.time(), flush=True)
rt.close()
"""


def bench_pgsql(rows: int, rounds: int, ops: int, samples: int) -> tuple[list[Any], list[str]]:
    pg = PostgresServer()
    pg.start()
    checks: list[str] = []
    try:
        pg.psql(
            "CREATE TABLE sippeers (id SERIAL PRIMARY KEY, name VARCHAR(40) NOT NULL UNIQUE, "
            "host VARCHAR(40), ipaddr VARCHAR(45), port INTEGER, regseconds INTEGER, "
            "defaultuser VARCHAR(40), fullcontact VARCHAR(80), useragent VARCHAR(255), "
            "lastms INTEGER, context VARCHAR(40), secret VARCHAR(40), allow VARCHAR(200));"
            "INSERT INTO sippeers (name, host, ipaddr, port, regseconds, defaultuser, "
            "fullcontact, useragent, lastms, context, secret, allow) "
            "SELECT 'peer' || lpad(i::text, 6, '0'), 'dynamic', '10.0.0.' || (i % 250), 5060, "
            "1790000000 + i, 'peer' || i, 'sip:peer@10.0.0.1:5060', 'Yealink T46U', i % 100, "
            f"'internal', 's3cret' || i, 'ulaw;alaw' FROM generate_series(0, {rows - 1}) i;",
            "VACUUM ANALYZE sippeers",
            database=pg.database,
            user=pg.user,
        )
        drivers = {"pgsql": {"bench": pg.settings()}}
        plain = Realtime({"sippeers": "pgsql,bench"}, drivers, plugins=Plugins())
        cached = Realtime({"sippeers": "pgsql,bench"}, drivers, plugins=Plugins())
        cache = RealtimeCache({"sippeers": CachePolicy(ttl=3600)}).attach(cached)
        (report,) = install_change_feeds(cached, ["sippeers"])
        assert report.ready, report
        cached.load("sippeers", name=PEER)
        assert cache.wait_coherent(10), "the PostgreSQL feed did not start"
        assert cached.load("sippeers", name=PEER) == plain.load("sippeers", name=PEER)
        results = [
            compare(
                "pgsql: cached / uncached", _loader(cached), _loader(plain), ops=ops, rounds=rounds
            )
        ]
        ratio = results[0].ratio
        checks.append(
            f"{'' if ratio >= PG_RATIO_TARGET else 'FAIL '}pgsql: cached load runs at "
            f"x{ratio:,.0f} the uncached rate (target x{PG_RATIO_TARGET:g})"
        )
        checks.append(_latency(pg, cached, samples))
        pg.stop()
        try:
            row = cached.load("sippeers", name=PEER)
            served = row is not None and row["name"] == PEER
        except Exception as exc:
            served = False
            print(f"with the server stopped: {type(exc).__name__}: {exc}")
        finally:
            pg.restart()
        checks.append(
            f"{'' if served else 'FAIL '}pgsql: with the server stopped the cached peer is "
            f"{'still answered' if served else 'NOT answered'}"
        )
        plain.close()
        cached.close()
        cache.close()
        return results, checks
    finally:
        pg.close()


def _latency(pg: PostgresServer, cached: Realtime, samples: int) -> str:
    """Another process changes the peer; seconds until the cached load shows it."""
    script = textwrap.dedent(_OTHER.format(settings=pg.settings(), peer=PEER))
    other = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert other.stdin is not None and other.stdout is not None
    delays: list[float] = []
    try:
        for i in range(samples):
            agent = f"bench agent {i}"
            other.stdin.write(agent + "\n")
            other.stdin.flush()
            committed = float(other.stdout.readline())
            while True:
                row = cached.load("sippeers", name=PEER)
                if row is not None and row.get("useragent") == agent:
                    break
                if time.time() - committed > 10:
                    raise AssertionError("another process's change was not seen in 10 s")
                time.sleep(0.0005)
            delays.append(time.time() - committed)
            time.sleep(0.05)
    finally:
        other.stdin.close()
        other.wait(30)
    worst = max(delays)
    return (
        f"{'' if worst <= LATENCY_TARGET else 'FAIL '}pgsql: another process's change seen "
        f"after {statistics.median(delays) * 1000:.1f} ms (median), {worst * 1000:.1f} ms "
        f"(worst of {samples}); target {LATENCY_TARGET:g} s"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--ops", type=int, default=20_000, help="sqlite3 calls per round")
    p.add_argument("--pg-ops", type=int, default=3_000, help="PostgreSQL calls per round")
    p.add_argument("--samples", type=int, default=20, help="cross-process changes timed")
    p.add_argument("--no-pgsql", action="store_true")
    args = p.parse_args()
    results, checks = bench_sqlite(args.rows, args.rounds, args.ops)
    if not args.no_pgsql:
        more, pg_checks = bench_pgsql(args.rows, args.rounds, args.pg_ops, args.samples)
        results += more
        checks += pg_checks
    print_table(results, f"Repeated Realtime.load of one peer, {args.rounds} alternating rounds")
    print()
    for line in checks:
        print(line)
    return 1 if any(line.startswith("FAIL") for line in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
