"""``Realtime.load`` by a random existing name on sqlite3, beside the same query in raw sqlite3.

    python bench/sqlite_load.py [--rows 20000] [--rounds 15] [--ops 5000]

Both sides use the same database file and the same statement
(``SELECT * FROM "sippeers" WHERE "name" = ? LIMIT 1``); the raw side fetches the row tuple,
ours returns the ``dict`` the API promises. Prints ops/s, the median ratio with its spread,
and client CPU microseconds per operation.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
from pathlib import Path

from _harness import SIPPEERS_COLUMNS, compare, print_table

from ara_realtime import Realtime

COLUMNS = SIPPEERS_COLUMNS


def build(path: Path, rows: int) -> list[str]:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE sippeers (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL UNIQUE, "
        "host VARCHAR(40), ipaddr VARCHAR(45), port INTEGER, regseconds INTEGER, "
        "defaultuser VARCHAR(40), fullcontact VARCHAR(80), useragent VARCHAR(255), "
        "lastms INTEGER, context VARCHAR(40), secret VARCHAR(40), allow VARCHAR(200))"
    )
    names = [f"peer{i:06d}" for i in range(rows)]
    conn.executemany(
        "INSERT INTO sippeers (name, host, ipaddr, port, regseconds, defaultuser, fullcontact, "
        "useragent, lastms, context, secret, allow) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                n,
                "dynamic",
                f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
                5060,
                1790000000 + i,
                n,
                f"sip:{n}@10.0.0.1:5060",
                "Yealink T46U",
                i % 100,
                "internal",
                f"s3cret{i}",
                "ulaw;alaw",
            )
            for i, n in enumerate(names)
        ],
    )
    conn.commit()
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    return names


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=20000)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--ops", type=int, default=5000)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        names = build(db, args.rows)
        rng = random.Random(7)
        keys = [rng.choice(names) for _ in range(args.ops)]

        rt = Realtime({"sippeers": "sqlite3,bench"}, {"sqlite3": {"bench": {"dbfile": str(db)}}})
        assert rt.load("sippeers", name=keys[0])["name"] == keys[0]
        raw = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        raw.execute("PRAGMA journal_mode = WAL")
        sql = 'SELECT * FROM "sippeers" WHERE "name" = ? LIMIT 1'

        def ours(n: int) -> None:
            load = rt.load
            for key in keys[:n]:
                load("sippeers", ("name", key))

        def raw_side(n: int) -> None:
            execute = raw.execute
            for key in keys[:n]:
                execute(sql, (key,)).fetchone()

        result = compare("load by name", ours, raw_side, ops=args.ops, rounds=args.rounds)
        print_table(
            [result],
            f"sqlite3 {sqlite3.sqlite_version}, {args.rows:,} rows, "
            f"{args.rounds} alternating rounds of {args.ops:,} lookups",
        )
        rt.close()
        raw.close()
        ok = result.ratio >= 0.75
        print(f"ratio {result.ratio:.3f} {'meets' if ok else 'MISSES'} the 0.75 target")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
