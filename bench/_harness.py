"""Shared by the benchmarks: alternate two sides in short rounds, report ratios and CPU time.

These machines are noisy (loopback round trips vary 2-4x with CPU idle states), so each
benchmark runs the framework and the raw driver in alternating rounds (A B A B ...) and
reports the median of the per-round throughput ratios with its spread, plus client CPU
microseconds per operation (``time.process_time``), the stable figure.

Every table printed is also written, with the machine and the date, to
``bench/results/<benchmark>.json`` (``ARA_BENCH_RESULTS`` names another directory, ``-`` none):
the documentation's benchmark page draws its charts from the results checked in there.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The sippeers-like table every benchmark uses (12 columns besides ``id``; ``name`` unique).
SIPPEERS_COLUMNS = [
    "name",
    "host",
    "ipaddr",
    "port",
    "regseconds",
    "defaultuser",
    "fullcontact",
    "useragent",
    "lastms",
    "context",
    "secret",
    "allow",
]


@dataclass
class Side:
    ops_per_s: list[float]
    cpu_us: list[float]

    @property
    def median_ops(self) -> float:
        return statistics.median(self.ops_per_s)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu_us)


@dataclass
class Result:
    name: str
    ours: Side
    raw: Side
    ratios: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    def row(self) -> list[str]:
        lo, hi = min(self.ratios), max(self.ratios)
        return [
            self.name,
            f"{self.ours.median_ops:,.0f}",
            f"{self.raw.median_ops:,.0f}",
            f"{self.ratio:.3f}",
            f"{lo:.2f}-{hi:.2f}",
            f"{self.ours.median_cpu:.1f}",
            f"{self.raw.median_cpu:.1f}",
        ]


HEADERS = [
    "benchmark",
    "ours ops/s",
    "raw ops/s",
    "ratio",
    "spread",
    "ours CPU us/op",
    "raw CPU us/op",
]


def _round(fn: Callable[[int], None], ops: int) -> tuple[float, float]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    fn(ops)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return ops / wall, cpu / ops * 1e6


def compare(
    name: str,
    ours: Callable[[int], None],
    raw: Callable[[int], None],
    *,
    ops: int,
    rounds: int,
    warmup: int = 1,
) -> Result:
    """Run ``ours(ops)`` and ``raw(ops)`` alternately ``rounds`` times each."""
    for _ in range(warmup):
        ours(ops)
        raw(ops)
    a, b = Side([], []), Side([], [])
    ratios = []
    for i in range(rounds):
        order = (ours, raw) if i % 2 == 0 else (raw, ours)  # A B B A ... cancels drift
        res = {fn: _round(fn, ops) for fn in order}
        (oa, ca), (ob, cb) = res[ours], res[raw]
        a.ops_per_s.append(oa)
        a.cpu_us.append(ca)
        b.ops_per_s.append(ob)
        b.cpu_us.append(cb)
        ratios.append(oa / ob)
    return Result(name, a, b, ratios)


#: Every table printed by this process, for its results file.
_TABLES: list[dict[str, Any]] = []


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def save(results: list[Result], title: str) -> Path | None:
    """Add a table to this benchmark's results file (``bench/results/<script>.json``)."""
    where = os.environ.get("ARA_BENCH_RESULTS", str(Path(__file__).parent / "results"))
    if where == "-":
        return None
    _TABLES.append(
        {
            "title": title,
            "results": [
                {
                    "name": r.name,
                    "ours_ops_per_s": r.ours.ops_per_s,
                    "raw_ops_per_s": r.raw.ops_per_s,
                    "ours_cpu_us": r.ours.cpu_us,
                    "raw_cpu_us": r.raw.cpu_us,
                    "ratios": r.ratios,
                }
                for r in results
            ],
        }
    )
    name = Path(sys.argv[0]).stem
    path = Path(where) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "format": 1,
        "benchmark": name,
        "command": " ".join([f"bench/{name}.py", *sys.argv[1:]]),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": _machine(),
        "tables": _TABLES,
    }
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return path


def print_table(results: list[Result], title: str) -> None:
    """Print the table, and save it to the benchmark's results file."""
    save(results, title)
    rows = [r.row() for r in results]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADERS)]
    print(title)
    print("  ".join(h.rjust(w) for h, w in zip(HEADERS, widths)))
    for r in rows:
        print("  ".join(v.rjust(w) for v, w in zip(r, widths)))
