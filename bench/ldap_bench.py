"""ara-ldap beside raw ldap3, on a throwaway slapd.

    python bench/ldap_bench.py [--rows 20000] [--rounds 9] [--ops 300]

Starts its own slapd (ara_testservers) with the shipped schema, loads ``--rows`` sippeers-like
entries with ``slapadd`` (``araRow`` entries named ``cn=<name>``, the 12 columns of the SQL
benchmarks in ``araText*``/``araInteger*`` attributes; equality indexes on ``cn`` and on the
``host`` attribute, ~100 entries per host), maps them with a ``res_ldap.conf``-style section
(``name = cn``, ``additionalFilter = (objectClass=araRow)``), then measures, alternating the two
sides in short rounds (A B B A ...):

* ``load``: ``Realtime.load`` by a random existing name;
* ``load_multi``: ``Realtime.load_multi`` of the ~100 entries of a random ``host``;

each beside raw ldap3 sending the very search ara-ldap sends (printed) on one bound connection
of the same kind (``SYNC``, no schema read, names unchecked) and decoding the values,
without the driver's exact client-side checks, row building and ordering. Prints ops/s, the
median per-round ratio with its spread, and client CPU microseconds per operation.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from typing import Any

import ldap3
from _harness import SIPPEERS_COLUMNS, Result, compare, print_table

from ara_ldap import schema_path
from ara_realtime import Realtime
from ara_testservers.slapd import SlapdServer

TARGETS = {"load": 0.9}
ATTRIBUTES = {
    "name": "cn",
    "host": "araText1",
    "ipaddr": "araText2",
    "port": "araInteger1",
    "regseconds": "araInteger2",
    "defaultuser": "araText3",
    "fullcontact": "araText4",
    "useragent": "araText5",
    "lastms": "araInteger3",
    "context": "araText6",
    "secret": "araText7",
    "allow": "araText8",
}
assert list(ATTRIBUTES) == SIPPEERS_COLUMNS
FILTER = "(objectClass=araRow)"


def base(server: SlapdServer) -> str:
    return f"ou=sippeers,{server.suffix}"


def entries_ldif(server: SlapdServer, rows: int) -> str:
    out = [f"dn: {base(server)}\nobjectClass: organizationalUnit\nou: sippeers\n"]
    hosts = max(1, rows // 100)
    for i in range(rows):
        values = {
            "cn": f"peer{i:06d}",
            "araText1": f"h{i % hosts:04d}",
            "araText2": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
            "araInteger1": "5060",
            "araInteger2": str(1790000000 + i),
            "araText3": f"peer{i:06d}",
            "araText4": f"sip:peer{i:06d}@10.0.0.1:5060",
            "araText5": "Yealink T46U",
            "araInteger3": str(i % 100),
            "araText6": "internal",
            "araText7": f"s3cret{i}",
            "araText8": "ulaw,alaw",
        }
        lines = [f"dn: cn={values['cn']},{base(server)}", "objectClass: araRow"]
        lines += [f"{k}: {v}" for k, v in values.items()]
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def make_realtime(server: SlapdServer) -> Realtime:
    section = {f"sippeers.{c}": a for c, a in ATTRIBUTES.items()}
    section["sippeers.additionalFilter"] = FILTER
    return Realtime(
        {"sippeers": f'ldap,"{base(server)}",sippeers'},
        {"ldap": {base(server): {**server.settings(), **section}}},
    )


def raw_connection(server: SlapdServer) -> ldap3.Connection:
    return ldap3.Connection(
        ldap3.Server(server.url(), get_info=ldap3.NONE),
        server.root_dn,
        server.password,
        client_strategy=ldap3.SYNC,
        auto_bind=True,
        check_names=False,
        raise_exceptions=False,
        return_empty_attributes=False,
    )


def raw_search(
    conn: ldap3.Connection, server: SlapdServer, search_filter: str, **kwargs: Any
) -> list[dict[str, str]]:
    """The search ara-ldap sends, with the values decoded (what any caller needs)."""
    conn.search(
        base(server),
        search_filter,
        ldap3.SUBTREE,
        ldap3.DEREF_NEVER,
        list(ATTRIBUTES.values()),
        time_limit=10,
        **kwargs,
    )
    return [
        {k: b";".join(v).decode() for k, v in e["raw_attributes"].items()}
        for e in conn.response
        if e["type"] == "searchResEntry"
    ]


def run(rows: int, rounds: int, ops: int) -> list[Result]:
    results: list[Result] = []
    # the .schema form: slapd.conf's index line on araText1 needs the schema loaded before it
    with SlapdServer(schemas=[schema_path("schema")], indexes=["araText1 eq"]) as server:
        assert isinstance(server, SlapdServer)
        server.slapadd(entries_ldif(server, rows))
        rt = make_realtime(server)
        conn = raw_connection(server)
        names = [f"peer{i:06d}" for i in range(rows)]
        hosts = [f"h{i:04d}" for i in range(max(1, rows // 100))]
        rnd = random.Random(7)

        sample = rnd.choice(names)
        assert rt.load("sippeers", name=sample) is not None
        load_filter = f"(&{FILTER}(cn={{}}))"
        print(f"load: (attributes: {len(ATTRIBUTES)}) {load_filter.format(sample)}, size limit 16")
        print(f"load_multi: (&{FILTER}(araText1=h0001)), paged by 500")

        def ours_load(n: int) -> None:
            load = rt.load
            for _ in range(n):
                load("sippeers", name=rnd.choice(names))

        def raw_load(n: int) -> None:
            for _ in range(n):
                raw_search(conn, server, load_filter.format(rnd.choice(names)), size_limit=16)

        def ours_multi(n: int) -> None:
            for _ in range(n):
                rt.load_multi("sippeers", ("host", rnd.choice(hosts)))

        def raw_multi(n: int) -> None:
            for _ in range(n):
                raw_search(
                    conn, server, f"(&{FILTER}(araText1={rnd.choice(hosts)}))", paged_size=500
                )

        checks: list[tuple[str, Callable[[int], None], Callable[[int], None], int]] = [
            ("load", ours_load, raw_load, ops),
            ("load_multi (100 rows)", ours_multi, raw_multi, max(1, ops // 20)),
        ]
        for name, ours, raw, n in checks:
            results.append(compare(name, ours, raw, ops=n, rounds=rounds))
        rt.close()
        conn.unbind()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--ops", type=int, default=300)
    args = parser.parse_args()
    results = run(args.rows, args.rounds, args.ops)
    print_table(results, f"ara-ldap vs raw ldap3, {args.rows:,} entries")
    ok = True
    for result in results:
        target = TARGETS.get(result.name)
        if target is not None and result.ratio < target:
            print(f"below target: {result.name} ratio {result.ratio:.3f} < {target}")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
