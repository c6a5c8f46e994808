"""ara-pgsql and ara-mysql beside their raw DB-API drivers, on throwaway local servers.

    python bench/sql_bench.py [--rows 100000] [--rounds 9] [--only pgsql,mysqlclient,pymysql]

Starts its own PostgreSQL and MariaDB (ara_testservers), loads the same sippeers-like table
(``--rows`` rows, 12 columns, ``name`` unique, ``host`` indexed with ~100 rows per value) and a
static-configuration table (10,000 rows of one file) into each, then for every DB-API driver
(psycopg 3; mysqlclient and PyMySQL on the same MariaDB table) measures, alternating the two
sides in short rounds (A B B A ...):

* ``load``: ``Realtime.load`` by a random existing name;
* ``load_multi``: ``Realtime.load_multi`` of the ~100 rows of a random ``host``;
* ``update``: ``Realtime.update`` of one random row's ``regseconds``;
* ``static``: ``Realtime.load_config`` of the 10,000-row file;

each beside the raw driver running the very statement ara-realtime sends (printed), in its
fastest form (psycopg: prepared; the MySQL drivers have no server-side prepare), on one
connection with a reused cursor, fetching tuples. Then 8 threads share one ``Realtime`` (its
pool) against the single-thread figure. Prints ops/s, the median per-round ratio with its
spread, and client CPU microseconds per operation.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import MySQLdb
import psycopg
import pymysql
from _harness import SIPPEERS_COLUMNS, Result, compare, print_table

from ara_realtime import Realtime
from ara_realtime.conditions import Condition
from ara_realtime.plugins import Plugins
from ara_testservers import MariaDBServer, PostgresServer

COLUMNS = SIPPEERS_COLUMNS
STATIC_FILE = "big.conf"
STATIC_ROWS = 10_000
TARGETS = {"pgsql": 0.85, "static": 0.8, "threads": 1.5}


def peer_rows(n: int) -> list[tuple[Any, ...]]:
    return [
        (
            f"peer{i:06d}",
            f"h{i % max(1, n // 100):04d}",
            f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
            5060,
            1790000000 + i,
            f"peer{i:06d}",
            f"sip:peer{i:06d}@10.0.0.1:5060",
            "Yealink T46U",
            i % 100,
            "internal",
            f"s3cret{i}",
            "ulaw,alaw",
        )
        for i in range(n)
    ]


def static_rows() -> list[tuple[Any, ...]]:
    return [
        (i // 20, i % 20, 0, STATIC_FILE, f"cat{i // 20:04d}", f"var{i % 20:02d}", f"value {i}")
        for i in range(STATIC_ROWS)
    ]


_DDL = (
    "CREATE TABLE sippeers (id {serial}, name VARCHAR(40) NOT NULL UNIQUE, host VARCHAR(40), "
    "ipaddr VARCHAR(45), port INTEGER, regseconds INTEGER, defaultuser VARCHAR(40), "
    "fullcontact VARCHAR(80), useragent VARCHAR(255), lastms INTEGER, context VARCHAR(40), "
    "secret VARCHAR(40), allow VARCHAR(200))",
    "CREATE INDEX sippeers_host ON sippeers (host)",
    "CREATE TABLE ast_config (id {serial}, cat_metric INTEGER NOT NULL DEFAULT 0, "
    "var_metric INTEGER NOT NULL DEFAULT 0, commented INTEGER NOT NULL DEFAULT 0, "
    "filename VARCHAR(128) NOT NULL, category VARCHAR(128) NOT NULL, "
    "var_name VARCHAR(128) NOT NULL, var_val VARCHAR(128) NOT NULL)",
    "CREATE INDEX ast_config_file ON ast_config (filename, commented)",
)
_INSERT_PEERS = f"INSERT INTO sippeers ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * 12)})"
_INSERT_STATIC = (
    "INSERT INTO ast_config (cat_metric, var_metric, commented, filename, category, var_name, "
    "var_val) VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


def load_pg(pg: PostgresServer, rows: int) -> None:
    with psycopg.connect(**pg_kwargs(pg), autocommit=True) as conn:
        for ddl in _DDL:
            conn.execute(ddl.format(serial="SERIAL PRIMARY KEY"))
        with conn.cursor().copy(f"COPY sippeers ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in peer_rows(rows):
                copy.write_row(row)
        conn.cursor().executemany(_INSERT_STATIC, static_rows())
        conn.execute("VACUUM ANALYZE")


def load_mariadb(my: MariaDBServer, rows: int) -> None:
    conn = MySQLdb.connect(**my_kwargs(my), autocommit=True)
    cur = conn.cursor()
    for ddl in _DDL:
        cur.execute(ddl.format(serial="INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY"))
    data = peer_rows(rows)
    for i in range(0, len(data), 5000):
        cur.executemany(_INSERT_PEERS, data[i : i + 5000])
    cur.executemany(_INSERT_STATIC, static_rows())
    cur.execute("ANALYZE TABLE sippeers, ast_config")
    cur.fetchall()
    conn.close()


def pg_kwargs(pg: PostgresServer) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": pg.port,
        "user": pg.user,
        "password": pg.password,
        "dbname": pg.database,
    }


def my_kwargs(my: MariaDBServer) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": my.port,
        "user": my.user,
        "password": my.password,
        "database": my.database,
        "charset": "utf8mb4",
        "client_flag": 2,
    }


class Side:
    """One DB-API driver: a Realtime on it and a raw connection running the same statements."""

    def __init__(
        self, name: str, rt: Realtime, connect: Callable[[], Any], execute: Callable[..., Any]
    ) -> None:
        self.name = name
        self.rt = rt
        self.connect = connect
        raw = connect()
        self.raw = raw
        self.cur = raw.cursor()
        self.execute = execute  # execute(cursor, sql, params)
        backend = next(iter(rt._backends.values()))  # type: ignore[attr-defined]
        rt.load("sippeers", name="peer000000")
        self.conn = backend.connection

    def sql(self, multi: bool, conds: tuple[Condition, ...]) -> tuple[str, list[object]]:
        info = self.conn.table("sippeers", "sippeers")
        return self.conn.statements.select(info, conds, "sippeers", multi=multi)  # type: ignore[no-any-return]


def bench_side(side: Side, rows: int, ops: int, rounds: int) -> tuple[list[Result], list[str]]:
    rng = random.Random(7)
    names = [f"peer{rng.randrange(rows):06d}" for _ in range(ops)]
    hosts = [f"h{rng.randrange(max(1, rows // 100)):04d}" for _ in range(ops)]
    rt, cur, execute = side.rt, side.cur, side.execute
    results: list[Result] = []
    notes: list[str] = []

    sql1, _ = side.sql(False, (Condition("name", "=", "x"),))
    notes.append(f"load:       {sql1}")

    def ours_load(n: int) -> None:
        load = rt.load
        for name in names[:n]:
            load("sippeers", ("name", name))

    def raw_load(n: int) -> None:
        for name in names[:n]:
            execute(cur, sql1, [name] * sql1.count("%s"))
            cur.fetchone()

    results.append(compare("load", ours_load, raw_load, ops=ops, rounds=rounds))

    sqlm, _ = side.sql(True, (Condition("host", "=", "x"),))
    notes.append(f"load_multi: {sqlm}")
    mops = max(10, ops // 20)

    def ours_multi(n: int) -> None:
        load_multi = rt.load_multi
        for host in hosts[:n]:
            load_multi("sippeers", ("host", host))

    def raw_multi(n: int) -> None:
        for host in hosts[:n]:
            execute(cur, sqlm, [host] * sqlm.count("%s"))
            cur.fetchall()

    results.append(
        compare("load_multi (~100 rows)", ours_multi, raw_multi, ops=mops, rounds=rounds)
    )

    info = side.conn.table("sippeers", "sippeers")
    sqlu, _ = side.conn.statements.update(
        info, (Condition("name", "=", "x"),), (("regseconds", "1"),), "sippeers"
    )
    notes.append(f"update:     {sqlu}")
    counter = iter(range(10**9))

    def ours_update(n: int) -> None:
        update = rt.update
        for name in names[:n]:
            update("sippeers", "name", name, {"regseconds": str(next(counter))})

    def raw_update(n: int) -> None:
        for name in names[:n]:
            execute(cur, sqlu, [str(next(counter)), *[name] * (sqlu.count("%s") - 1)])

    uops = max(10, ops // 2)
    results.append(compare("update", ours_update, raw_update, ops=uops, rounds=rounds))

    static_info = side.conn.table("ast_config", STATIC_FILE)
    sqls = side.conn.statements.static("ast_config", static_info, side.conn.static_select())
    notes.append(f"static:     {sqls}")

    def ours_static(n: int) -> None:
        for _ in range(n):
            cfg = rt.load_config(STATIC_FILE)
        assert len(cfg.categories()) == STATIC_ROWS // 20

    def raw_static(n: int) -> None:
        for _ in range(n):
            execute(cur, sqls, [STATIC_FILE])
            cur.fetchall()

    results.append(compare("static (10,000 rows)", ours_static, raw_static, ops=3, rounds=rounds))
    return results, notes


def threads_figure(
    side: Side, rows: int, ops: int, rounds: int, *, raw: bool = False
) -> tuple[float, float, list[float]]:
    """Single-thread vs 8-thread load throughput (alternating rounds).

    Ours: 8 threads share one ``Realtime`` (its pool). ``raw``: each thread has its own DB-API
    connection running the same statement (the machine's own limit, for comparison).
    """
    rt = side.rt
    rng = random.Random(11)
    names = [f"peer{rng.randrange(rows):06d}" for _ in range(ops)]
    sql, _ = side.sql(False, (Condition("name", "=", "x"),))
    binds = sql.count("%s")
    conns = [side.connect() for _ in range(8)] if raw else []

    def run(threads: int) -> float:
        per = ops // threads
        barrier = threading.Barrier(threads + 1)

        def work(k: int) -> None:
            if raw:
                cur = conns[k].cursor()
                barrier.wait()
                for name in names[k * per : (k + 1) * per]:
                    side.execute(cur, sql, [name] * binds)
                    cur.fetchone()
                return
            barrier.wait()
            load = rt.load
            for name in names[k * per : (k + 1) * per]:
                load("sippeers", ("name", name))

        ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        for t in ts:
            t.start()
        barrier.wait()
        start = time.perf_counter()
        for t in ts:
            t.join()
        return per * threads / (time.perf_counter() - start)

    run(1)
    run(8)
    one: list[float] = []
    eight: list[float] = []
    for i in range(rounds):
        order = (1, 8) if i % 2 == 0 else (8, 1)
        got = {n: run(n) for n in order}
        one.append(got[1])
        eight.append(got[8])
    for conn in conns:
        conn.close()
    ratios = [b / a for a, b in zip(one, eight)]
    return statistics.median(one), statistics.median(eight), ratios


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--ops", type=int, default=2000)
    p.add_argument("--only", default="pgsql,mysqlclient,pymysql")
    args = p.parse_args()
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    plugins = Plugins()
    failures: list[str] = []
    servers: list[Any] = []
    try:
        sides: list[tuple[str, Callable[[], Side]]] = []
        if "pgsql" in wanted:
            pg = PostgresServer()
            servers.append(pg)
            pg.start()
            t0 = time.perf_counter()
            load_pg(pg, args.rows)
            print(f"PostgreSQL: {args.rows:,} rows loaded in {time.perf_counter() - t0:.1f} s")

            def make_pg() -> Side:
                rt = Realtime(
                    {"sippeers": "pgsql,bench", STATIC_FILE: "pgsql,bench,ast_config"},
                    {"pgsql": {"bench": pg.settings()}},
                    plugins=plugins,
                )
                return Side(
                    f"pgsql / psycopg {psycopg.__version__} (prepared)",
                    rt,
                    lambda: psycopg.connect(**pg_kwargs(pg), autocommit=True),
                    lambda cur, sql, params: cur.execute(sql, params, prepare=True),
                )

            sides.append(("pgsql", make_pg))
        if {"mysqlclient", "pymysql"} & set(wanted):
            my = MariaDBServer()
            servers.append(my)
            my.start()
            t0 = time.perf_counter()
            load_mariadb(my, args.rows)
            print(f"MariaDB: {args.rows:,} rows loaded in {time.perf_counter() - t0:.1f} s")
            for dbapi in ("mysqlclient", "pymysql"):
                if dbapi not in wanted:
                    continue

                def make_my(dbapi: str = dbapi) -> Side:
                    module: Any = MySQLdb if dbapi == "mysqlclient" else pymysql
                    rt = Realtime(
                        {"sippeers": "mysql,bench", STATIC_FILE: "mysql,bench,ast_config"},
                        {"mysql": {"bench": {**my.settings(), "dbapi": dbapi}}},
                        plugins=plugins,
                    )
                    version = getattr(module, "__version__", "")
                    return Side(
                        f"mysql / {dbapi} {version}",
                        rt,
                        lambda: module.connect(**my_kwargs(my), autocommit=True),
                        lambda cur, sql, params: cur.execute(sql, params),
                    )

                sides.append((dbapi, make_my))
        for key, make in sides:
            side = make()
            results, notes = bench_side(side, args.rows, args.ops, args.rounds)
            print()
            print_table(
                results,
                f"{side.name}: {args.rows:,} rows, {args.rounds} alternating rounds (ours / raw)",
            )
            for note in notes:
                print(f"  {note}")
            for r in results:
                target = TARGETS["static"] if r.name.startswith("static") else TARGETS["pgsql"]
                if r.ratio < target:
                    failures.append(f"{key} {r.name}: ratio {r.ratio:.3f} < {target}")
            one, eight, ratios = threads_figure(side, args.rows, args.ops * 2, args.rounds)
            ratio = statistics.median(ratios)
            print(
                f"  8 threads through the pool: {eight:,.0f} ops/s vs 1 thread {one:,.0f} ops/s "
                f"= x{ratio:.2f} (spread {min(ratios):.2f}-{max(ratios):.2f})"
            )
            rone, reight, rratios = threads_figure(
                side, args.rows, args.ops * 2, args.rounds, raw=True
            )
            print(
                f"  8 raw connections, one per thread: {reight:,.0f} ops/s vs 1 {rone:,.0f} ops/s "
                f"= x{statistics.median(rratios):.2f} (this machine's own limit)"
            )
            if ratio < TARGETS["threads"]:
                failures.append(f"{key} threads: x{ratio:.2f} < {TARGETS['threads']}")
            side.rt.close()
            side.raw.close()
    finally:
        for server in servers:
            server.close()
    print()
    if failures:
        print("below target: " + "; ".join(failures))
        return 1
    print("every ratio meets its target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
