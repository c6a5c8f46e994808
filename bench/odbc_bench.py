"""ara-odbc beside raw pyodbc on the same DSN, for PostgreSQL, MariaDB and SQLite.

    python bench/odbc_bench.py [--rows 100000] [--rounds 9] [--ops 2000]
                               [--only postgresql,mariadb,sqlite]

Starts its own PostgreSQL and MariaDB (ara_testservers), writes private unixODBC files with a
DSN per DBMS (psqlODBC, MariaDB Connector/ODBC, the SQLite3 ODBC driver), and loads the table
``bench/sql_bench.py`` uses (``--rows`` sippeers-like rows, 12 columns, ``name`` unique,
``host`` indexed with ~100 rows per value) plus a 10,000-row static file into each. Then, for
each DBMS, alternating the two sides in short rounds (A B B A ...):

* ``load``: ``Realtime.load`` by a random existing name;
* ``load_multi``: ``Realtime.load_multi`` of the ~100 rows of a random ``host``;
* ``update``: ``Realtime.update`` of one random row's ``regseconds``;
* ``static``: ``Realtime.load_config`` of the 10,000-row file;

each beside raw pyodbc on the same DSN running the very statement ara-odbc sends (printed) on
one connection with a reused cursor, set up as ara-odbc sets up its connections (UTF-8 text for
MariaDB and SQLite). For ``load`` and ``load_multi`` the raw side builds the same rows the API
returns (a ``dict`` of the row's text values, NULL and empty ones left out), since that is
what an application on raw pyodbc would do. Prints ops/s, the median per-round ratio (ours /
raw) with its spread, and client CPU microseconds per operation.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import SIPPEERS_COLUMNS, Result, compare, print_table
from sql_bench import _DDL, STATIC_FILE, STATIC_ROWS, load_mariadb, load_pg, peer_rows, static_rows

from ara_odbc.driver import OdbcConnection, prepare, pyodbc_module
from ara_realtime import Realtime
from ara_realtime.conditions import Condition
from ara_realtime.plugins import Plugins
from ara_testservers import MariaDBServer, PostgresServer
from ara_testservers.odbc import OdbcFiles

COLUMNS = SIPPEERS_COLUMNS
TARGETS = {"load": 0.9, "load_multi (~100 rows)": 0.85, "update": 0.9}


def load_sqlite(path: Path, rows: int) -> None:
    conn = sqlite3.connect(path)
    for ddl in _DDL:
        conn.execute(ddl.format(serial="INTEGER PRIMARY KEY"))
    marks = ", ".join("?" * len(COLUMNS))
    conn.executemany(
        f"INSERT INTO sippeers ({', '.join(COLUMNS)}) VALUES ({marks})", peer_rows(rows)
    )
    conn.executemany(
        "INSERT INTO ast_config (cat_metric, var_metric, commented, filename, category, "
        "var_name, var_val) VALUES (?, ?, ?, ?, ?, ?, ?)",
        static_rows(),
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()


def bench_dbms(
    name: str, dsn: str, rows: int, ops: int, rounds: int
) -> tuple[list[Result], list[str]]:
    pyodbc = pyodbc_module()
    rt = Realtime(
        {"sippeers": "odbc,bench", STATIC_FILE: "odbc,bench,ast_config"},
        {"odbc": {"bench": {"dsn": dsn}}},
        plugins=Plugins(),
    )
    rt.load("sippeers", name="peer000000")
    conn = rt._backends[("odbc", "bench")].connection  # type: ignore[attr-defined]
    assert isinstance(conn, OdbcConnection)
    raw = pyodbc.connect(dsn, autocommit=True)
    prepare(raw, pyodbc)
    cur = raw.cursor()
    info = conn.table("sippeers", "sippeers")
    cols = info.columns
    rng = random.Random(7)
    names = [f"peer{rng.randrange(rows):06d}" for _ in range(ops)]
    hosts = [f"h{rng.randrange(max(1, rows // 100)):04d}" for _ in range(ops)]
    results: list[Result] = []
    notes = [f"{name}: {conn.dbms.describe()}, pyodbc {pyodbc.version}"]

    sql1, p1 = conn.statements.select(info, (Condition("name", "=", "x"),), "s", multi=False)
    n1 = len(p1)
    notes.append(f"load:       {sql1}")

    def ours_load(n: int) -> None:
        load = rt.load
        for nm in names[:n]:
            load("sippeers", ("name", nm))

    def raw_load(n: int) -> None:
        execute, fetchone = cur.execute, cur.fetchone
        for nm in names[:n]:
            execute(sql1, [nm] * n1)
            r = fetchone()
            _row = {c: v for c, v in zip(cols, r) if v}

    results.append(compare("load", ours_load, raw_load, ops=ops, rounds=rounds))

    sqlm, pm = conn.statements.select(info, (Condition("host", "=", "x"),), "s", multi=True)
    nm_ = len(pm)
    notes.append(f"load_multi: {sqlm}")

    def ours_multi(n: int) -> None:
        load_multi = rt.load_multi
        for h in hosts[:n]:
            load_multi("sippeers", ("host", h))

    def raw_multi(n: int) -> None:
        for h in hosts[:n]:
            cur.execute(sqlm, [h] * nm_)
            _rows = [{c: v for c, v in zip(cols, r) if v} for r in cur.fetchall()]

    mops = max(10, ops // 20)
    results.append(
        compare("load_multi (~100 rows)", ours_multi, raw_multi, ops=mops, rounds=rounds)
    )

    sqlu, pu = conn.statements.update(
        info, (Condition("name", "=", "x"),), (("regseconds", "1"),), "s"
    )
    nu = len(pu) - 1
    notes.append(f"update:     {sqlu}")
    counter = iter(range(10**9))

    def ours_update(n: int) -> None:
        update = rt.update
        for nm in names[:n]:
            update("sippeers", "name", nm, {"regseconds": str(next(counter))})

    def raw_update(n: int) -> None:
        for nm in names[:n]:
            cur.execute(sqlu, [str(next(counter)), *[nm] * nu])

    uops = max(10, ops // 2)
    results.append(compare("update", ours_update, raw_update, ops=uops, rounds=rounds))

    static_info = conn.table("ast_config", STATIC_FILE)
    sqls = conn.statements.static("ast_config", static_info, conn.static_select())
    notes.append(f"static:     {sqls}")

    def ours_static(n: int) -> None:
        for _ in range(n):
            cfg = rt.load_config(STATIC_FILE)
        assert len(cfg.categories()) == STATIC_ROWS // 20

    def raw_static(n: int) -> None:
        for _ in range(n):
            cur.execute(sqls, [STATIC_FILE])
            cur.fetchall()

    results.append(compare("static (10,000 rows)", ours_static, raw_static, ops=3, rounds=rounds))
    rt.close()
    raw.close()
    return results, notes


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--ops", type=int, default=2000)
    p.add_argument("--only", default="postgresql,mariadb,sqlite")
    args = p.parse_args()
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    files = OdbcFiles()
    files.activate()
    servers: list[Any] = []
    failures: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="ara-odbc-bench-"))
    try:
        dsns: list[tuple[str, Callable[[], str]]] = []
        if "postgresql" in wanted:

            def make_pg() -> str:
                pg = PostgresServer()
                servers.append(pg)
                pg.start()
                t0 = time.perf_counter()
                load_pg(pg, args.rows)
                print(f"PostgreSQL: {args.rows:,} rows loaded in {time.perf_counter() - t0:.1f} s")
                return f"DSN={files.postgres('bench_pg', pg).name}"

            dsns.append(("postgresql", make_pg))
        if "mariadb" in wanted:

            def make_my() -> str:
                my = MariaDBServer()
                servers.append(my)
                my.start()
                t0 = time.perf_counter()
                load_mariadb(my, args.rows)
                print(f"MariaDB: {args.rows:,} rows loaded in {time.perf_counter() - t0:.1f} s")
                # found rows (update counts matched rows), as ara-odbc would connect anyway
                return f"DSN={files.mariadb('bench_mariadb', my).name};OPTION=2"

            dsns.append(("mariadb", make_my))
        if "sqlite" in wanted:

            def make_lite() -> str:
                path = work / "bench.sqlite3"
                t0 = time.perf_counter()
                load_sqlite(path, args.rows)
                print(f"SQLite: {args.rows:,} rows loaded in {time.perf_counter() - t0:.1f} s")
                return f"DSN={files.sqlite('bench_sqlite', path).name}"

            dsns.append(("sqlite", make_lite))
        for key, make in dsns:
            dsn = make()
            results, notes = bench_dbms(key, dsn, args.rows, args.ops, args.rounds)
            print()
            print_table(
                results,
                f"odbc / {key}: {args.rows:,} rows, {args.rounds} alternating rounds "
                "(ours / raw pyodbc)",
            )
            for note in notes:
                print(f"  {note}")
            for r in results:
                target = TARGETS.get(r.name)
                if target is not None and r.ratio < target:
                    failures.append(f"{key} {r.name}: ratio {r.ratio:.3f} < {target}")
    finally:
        for server in servers:
            server.close()
        files.close()
        for f in work.glob("*"):
            f.unlink()
        work.rmdir()
    print()
    if failures:
        print("below target: " + "; ".join(failures))
        return 1
    print("every ratio meets its target (load, update >= 0.9; load_multi >= 0.85)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
