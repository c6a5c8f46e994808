"""The fault matrix's results as a page (Markdown) and as a terminal table.

The documentation site renders ``fault-matrix.md`` at build time (``scripts/docs_site/hooks.py``)
from ``docs/fault-matrix.json``, which :func:`ara_testservers.faultmatrix.write_json` wrote
(``scripts/fault-matrix``); the test session prints :func:`text_table` in its summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from .faultmatrix import Result

__all__ = ["render", "text_table"]

_FAULTS = {
    "kill9": "SIGKILL of every process of the node, then a start (crash recovery)",
    "restart": "the server's own clean stop, then a start",
    "stall": "SIGSTOP of every process of the node (the kernel still accepts connections "
    "and acknowledges packets, nothing answers), then SIGCONT",
    "netcut": "the clients' network path to the node cut (a veth pair into a network "
    "namespace taken down: packets dropped both ways, no reset), then restored",
}


def _seconds(value: float | None) -> str:
    if value is None:
        return "never"
    return f"{value:.2f}"


def _row(r: dict[str, Any]) -> list[str]:
    if r["status"] != "ok":
        return [r["cluster"], r["fault"], r["node"], f"not applicable: {r['note']}"] + [""] * 8
    return [
        r["cluster"],
        r["fault"],
        r["node"],
        str(r["calls"]),
        f"{r['failed_reads']} / {r['failed_writes']}",
        _seconds(r["write_outage_s"]),
        _seconds(r["recovered_after_s"]),
        _seconds(r["longest_call_s"]),
        str(r["acked_writes"]),
        str(r["lost_writes"]),
        str(r["duplicated_writes"]),
        f"{r['unknown_applied']} of {r['unknown_writes']}",
    ]


_HEADER = [
    "cluster",
    "fault",
    "node",
    "calls",
    "failed (reads / writes)",
    "writes failing for (s)",
    "back after the fault (s)",
    "longest call (s)",
    "writes acknowledged",
    "acknowledged, lost",
    "applied twice",
    "failed writes applied",
]


def render(doc: dict[str, Any]) -> str:
    """The results page (Markdown) of one run's JSON."""
    results: list[dict[str, Any]] = doc["results"]
    s = doc["settings"]
    m = doc["machine"]
    out = [
        "# Fault matrix",
        "",
        "<!-- generated when the site is built, from fault-matrix.json (scripts/fault-matrix) -->",
        "",
        "Every driver and every replicated cluster, real engines on loopback, under four kinds "
        "of fault. For each cell a workload runs through one `Realtime` on a fresh table: "
        f"{s['threads']} threads, each making {s['rounds_per_s']:g} rounds a second of one "
        "`store` (a new row), one `update` (a new value of one of its rows) and one `load`. "
        f"After half a second the fault is applied to one node for {s['hold_s']:g} s, then "
        "ended (the node started again, resumed, reachable again) while the workload goes "
        "on until calls succeed again; then every row is read back through the same "
        "`Realtime`. The driver settings are `query_timeout = "
        f"{s['query_timeout_s']:g}` and `connect_timeout = {s['connect_timeout_s']:g}` "
        "(their equivalents for ldap and SQLite); the clusters are listed below the table, "
        "their settings are in [deployments](deployments.md).",
        "",
        "The faults:",
        "",
        *(f"- `{kind}`: {text}." for kind, text in _FAULTS.items()),
        "",
        "What the columns say:",
        "",
        "- *failed*: calls that raised `BackendError` (every failure did: any other error "
        "fails the run);",
        "- *writes failing for*: from the first failed write to the first write that succeeded "
        "after the last failed one;",
        "- *back after the fault*: how long after the fault ended reads and writes both "
        "succeeded again (0: they did while it lasted, as after a failover). The test asserts "
        f"at most {s['recovery_bound_s']:g} s, or the cluster's own bound where it has one "
        "(listed with the clusters below);",
        "- *longest call*: every call is bounded; the test asserts at most "
        f"{s['call_bound_s']:g} s;",
        "- *acknowledged, lost*: writes that returned success and are not there afterwards "
        "(every store is a row of its own, so each is checked; for updates, the last one "
        "acknowledged on each row). The test asserts 0 wherever the cluster promises it "
        "(single servers, synchronous replication);",
        "- *applied twice*: a store found more than once (asserted 0 everywhere);",
        "- *failed writes applied*: a write whose call failed has an unknown outcome (the server "
        "may have committed it before the connection was cut): these were applied, once.",
        "",
        f"Run: {doc['generated']}, {m['system']}, {m['cpus']} CPUs, Python {m['python']}; "
        "the results as JSON: [fault-matrix.json](fault-matrix.json).",
        "",
        "| " + " | ".join(_HEADER) + " |",
        "| " + " | ".join("---" for _ in _HEADER) + " |",
    ]
    out += ["| " + " | ".join(_row(r)) + " |" for r in results]
    out += ["", "## The clusters", ""]
    seen: dict[str, str] = {}
    for r in results:
        nodes = f"{r['nodes']} node{'s' if r['nodes'] != 1 else ''}"
        sync = "synchronous" if r["synchronous"] else "asynchronous: losses measured, not asserted"
        seen.setdefault(
            r["cluster"], f"{r['description']} (driver `{r['driver']}`, {nodes}, {sync})"
        )
    out += [f"- **{name}**: {text}" for name, text in seen.items()]
    errors = [r for r in results if r.get("errors")]
    if errors:
        out += ["", "## What the failed calls said", ""]
        for r in errors:
            out.append(f"- {r['cluster']} / {r['fault']}: " + "; ".join(r["errors"]))
    return "\n".join(out) + "\n"


def text_table(results: Sequence[Result]) -> list[str]:
    """The results as aligned text lines (for the terminal summary)."""
    rows = [[*_HEADER[:8], "acked", "lost", "twice", "unknown applied"]]
    rows += [_row(asdict(r)) for r in results]
    widths = [max(len(row[i]) for row in rows if len(row[i]) < 60) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
