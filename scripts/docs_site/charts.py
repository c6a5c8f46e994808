"""The benchmark charts page: ours vs the raw client library, per driver and operation.

Each benchmark (``bench/*.py``) writes ``bench/results/<benchmark>.json`` (see
``bench/_harness.py``): per table, per operation, the throughput and client CPU time of both
sides in every round. The page shows, per table, the median throughput and CPU per operation
of both sides as bar charts, the ratio with its spread, and the machine and date of the run.
"""

from __future__ import annotations

import io
import json
import re
import statistics
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import ticker

# Reproducible SVGs: the same results give the same bytes.
matplotlib.rcParams["svg.hashsalt"] = "ara-realtime"
matplotlib.rcParams["svg.fonttype"] = "none"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _chart(table: dict[str, Any]) -> bytes:
    results = table["results"]
    names = [r["name"] for r in results]
    med = statistics.median
    fig, (ops, cpu) = plt.subplots(
        1, 2, figsize=(10, 0.55 * len(names) + 1.6), sharey=True, layout="constrained"
    )
    y = range(len(names))
    h = 0.38
    for axis, key, label in (
        (ops, "ops_per_s", "operations/s"),
        (cpu, "cpu_us", "client CPU µs/op"),
    ):
        ours = [med(r[f"ours_{key}"]) for r in results]
        raw = [med(r[f"raw_{key}"]) for r in results]
        axis.barh([i - h / 2 for i in y], ours, h, label="ara-realtime", color="#3f51b5")
        axis.barh([i + h / 2 for i in y], raw, h, label="raw client", color="#bdbdbd")
        axis.set_xlabel(f"{label} (median of rounds, log scale)")
        axis.grid(axis="x", alpha=0.3)
        # operations differ by orders of magnitude (a point load, 10,000 static rows)
        axis.set_xscale("log")
        axis.xaxis.set_major_formatter(ticker.FuncFormatter(_short))
    for i, r in enumerate(results):
        ops.annotate(
            f"×{med(r['ratios']):.2f}",
            (med(r["ours_ops_per_s"]), i - h / 2),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ops.set_yticks(list(y), names)
    ops.invert_yaxis()
    fig.legend(*ops.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8)
    fig.suptitle(table["title"], fontsize=10)
    out = io.BytesIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    plt.close(fig)
    return out.getvalue()


def _short(value: float, _pos: int) -> str:
    """An axis tick: 250k rather than 250000 (the ticks must not run into each other)."""
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if abs(value) >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def _table(table: dict[str, Any]) -> list[str]:
    med = statistics.median
    out = [
        "| operation | ours ops/s | raw ops/s | ratio (spread) | ours CPU µs/op | raw CPU µs/op |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in table["results"]:
        out.append(
            f"| {r['name']} | {med(r['ours_ops_per_s']):,.0f} | {med(r['raw_ops_per_s']):,.0f} "
            f"| {med(r['ratios']):.3f} ({min(r['ratios']):.2f}-{max(r['ratios']):.2f}) "
            f"| {med(r['ours_cpu_us']):.1f} | {med(r['raw_cpu_us']):.1f} |"
        )
    return out


def page(results: Path) -> tuple[str, dict[str, bytes]]:
    """The page's Markdown and its charts (file name -> SVG)."""
    lines = [
        "# Benchmark charts",
        "",
        "<!-- Generated at build time from bench/results/*.json; do not edit by hand. -->",
        "",
        "Drawn from the last results checked in under `bench/results/`: each benchmark runs "
        "ara-realtime and the raw client library in alternating short rounds on the same data "
        "(see [Benchmarks](../benchmarks.md) for what each measures and why). A bar is the "
        "median over the rounds; the ratio is ours over raw, round by round. Run a benchmark "
        "again to replace its results.",
        "",
    ]
    images: dict[str, bytes] = {}
    files = sorted(results.glob("*.json")) if results.is_dir() else []
    if not files:
        lines.append("No results are checked in.")
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        m = data["machine"]
        lines += [
            f"## {data['benchmark']}",
            "",
            f"Measured {data['date'].replace('T', ' ').rstrip('Z')} UTC on {m['cpu']} "
            f"({m['cores']} cores), Python {m['python']}, {m['platform']}: "
            f"`{data['command']}`.",
            "",
        ]
        for table in data["tables"]:
            name = f"{data['benchmark']}-{_slug(table['title'])}.svg"
            images[name] = _chart(table)
            lines += [f"### {table['title']}", "", f"![{table['title']}]({name})", ""]
            lines += [*_table(table), ""]
    return "\n".join(lines), images
