"""What the query_timeout deadline costs a call (ara_realtime.sql.deadline).

    python bench/deadline_bench.py [--rounds 9] [--ops 3000] [--only pgsql,mysqlclient,pymysql]

Two figures, client CPU per call (``time.process_time``), in alternating rounds:

* ``arm+disarm``: the two calls the hot path adds, alone, against an empty loop;
* ``load``: ``Realtime.load`` by a random existing name on a throwaway server (ara_testservers),
  with the pooled connection's watch against the same connection with a watch that does
  nothing: the difference is what the deadline adds to a real call.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from typing import Any

from _harness import compare, print_table

from ara_realtime import Realtime
from ara_realtime.plugins import Plugins
from ara_realtime.sql.deadline import watchdog
from ara_testservers import MariaDBServer, PostgresServer


class _NoWatch:
    """A watch that does nothing (the baseline)."""

    def arm(self, timeout: float | None = None) -> None:
        pass

    def disarm(self) -> bool:
        return False


def micro(rounds: int) -> None:
    watch = watchdog().watch(None, 3.0)
    n = 1_000_000
    armed, empty = [], []
    for i in range(rounds):
        for which in ("armed", "empty") if i % 2 == 0 else ("empty", "armed"):
            cpu = time.process_time()
            if which == "armed":
                for _ in range(n):
                    watch.arm()
                    watch.disarm()
                armed.append((time.process_time() - cpu) / n * 1e9)
            else:
                for _ in range(n):
                    pass
                empty.append((time.process_time() - cpu) / n * 1e9)
    print(
        f"arm+disarm: {statistics.median(armed) - statistics.median(empty):.0f} ns CPU per call "
        f"(loop with: {statistics.median(armed):.0f} ns, empty loop: "
        f"{statistics.median(empty):.0f} ns; medians of {rounds} rounds of {n:,})"
    )


def load_bench(name: str, rt: Realtime, driver: str, *, rows: int, ops: int, rounds: int) -> Any:
    pool = rt._backends[(driver, "ara")].connection.reader
    rng = random.Random(7)
    names = [f"p{rng.randrange(rows)}" for _ in range(ops)]
    rt.load("peers", name="p0")  # one pooled connection, the one every call below takes
    [conn] = list(pool._idle)
    real = conn.watch

    def side(watch: Any) -> Any:
        def run(k: int) -> None:
            conn.watch = watch
            for i in range(k):
                rt.load("peers", name=names[i % ops])
            conn.watch = real

        return run

    return compare(name, side(real), side(_NoWatch()), ops=ops, rounds=rounds)


def fill(rt: Realtime, rows: int) -> None:
    assert rt.require(
        "peers", {"name": ("char", 40), "host": ("char", 40), "port": ("integer4", 11)}
    )
    for i in range(rows):
        rt.store("peers", {"name": f"p{i}", "host": f"h{i % 10}", "port": str(5060 + i)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--ops", type=int, default=3000)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--only", default="pgsql,mysqlclient,pymysql")
    args = parser.parse_args()
    only = set(args.only.split(","))
    micro(args.rounds)
    results = []
    plugins = Plugins()
    if "pgsql" in only:
        with PostgresServer() as pg:
            assert isinstance(pg, PostgresServer)
            s = {**pg.settings(), "requirements": "createclose"}
            with Realtime(
                {"peers": "pgsql,ara,peers"}, {"pgsql": {"ara": s}}, plugins=plugins
            ) as rt:
                fill(rt, args.rows)
                results.append(
                    load_bench(
                        "pgsql load", rt, "pgsql", rows=args.rows, ops=args.ops, rounds=args.rounds
                    )
                )
    mysql = [d for d in ("mysqlclient", "pymysql") if d in only]
    if mysql:
        with MariaDBServer() as my:
            assert isinstance(my, MariaDBServer)
            for dbapi in mysql:
                s = {**my.settings(), "dbapi": dbapi, "requirements": "createclose"}
                table = f"peers_{dbapi}"
                with Realtime(
                    {"peers": f"mysql,ara,{table}"}, {"mysql": {"ara": s}}, plugins=plugins
                ) as rt:
                    fill(rt, args.rows)
                    results.append(
                        load_bench(
                            f"{dbapi} load",
                            rt,
                            "mysql",
                            rows=args.rows,
                            ops=args.ops,
                            rounds=args.rounds,
                        )
                    )
    print_table(results, "with the deadline (ours) / without (raw); CPU us per load")
    for r in results:
        print(
            f"{r.name}: deadline adds {r.ours.median_cpu - r.raw.median_cpu:+.2f} us CPU per call"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
