"""The fault matrix: every driver and cluster, each kind of fault, one workload, one report.

A :class:`Cluster` is a running storage (one server, or several replicating nodes) that the
matrix can hurt. The runner (:func:`run_fault`) opens a :class:`~ara_realtime.Realtime` on a
fresh table of it, drives a workload of loads, stores and updates with unique, verifiable
values from a few threads, applies one fault to one node for a while, lets the node come back,
and then reads everything back through the same ``Realtime``. Per (cluster, fault) it records
(:class:`Result`): calls made and failed, how long calls failed and how soon after the fault
ended they succeeded again, writes acknowledged, acknowledged writes lost, writes applied twice,
and failed writes found applied anyway (a write whose connection was cut has an unknown outcome:
it may be applied, but never twice). :func:`write_json` keeps the results, from which the
documentation site renders its page (:mod:`ara_testservers.faultpage`).

The cluster protocol (other modules implement it; the runner needs nothing else):

``name: str``
    the matrix row, e.g. ``pgsql-sync``, ``galera``, ``sqlite3``;
``driver: str``
    the ara driver the mappings use (``pgsql``, ``mysql``, ``odbc``, ``ldap``, ``sqlite3``);
``synchronous: bool``
    acknowledged writes must never be lost, whatever one node suffers (a single server, a
    synchronous replica, Galera's certification); ``False`` for asynchronous replication,
    whose losses are measured, not asserted;
``start()`` / ``stop()``
    start every node (and whatever the faults need, such as network paths) / stop them and
    remove everything;
``mappings() -> (mappings, drivers)``
    ``Realtime(mappings, drivers)`` arguments in which family :data:`FAMILY` maps to a new,
    empty table (each call makes another) holding at least the columns of :data:`COLUMNS`,
    with no unique constraint on ``name`` where the storage allows duplicates (so a write
    applied twice is seen). Settings should use :data:`QUERY_TIMEOUT` and
    :data:`CONNECT_TIMEOUT` (or say why not in ``description``);
``nodes() -> list[str]``
    the node names, the one whose loss hurts most first (the primary, the provider, the
    first host of the client's list): the runner faults ``nodes()[0]`` unless told otherwise.
    It is asked again before each fault (a failover changes the order);
``fault(kind, node)``
    a context manager doing fault ``kind`` (one of :data:`FAULT_KINDS`) to ``node`` for the
    duration of the block: entering applies it and returns once it is in effect, leaving ends
    it and returns once the node serves again, so the cluster is whole for the next fault:

    * ``kill9``: SIGKILL every process of the node; on leaving, start it again (a cluster with
      a failover manager may promote another node on entering, as the manager would, and make
      the old node rejoin on leaving);
    * ``restart``: a clean stop on entering, a start on leaving;
    * ``stall``: SIGSTOP every process of the node, SIGCONT on leaving;
    * ``netcut``: cut the network path between the client and the node (the node runs in a
      network namespace the cluster made, :class:`~ara_testservers.faults.Netns`, or one of a
      :class:`~ara_testservers.lan.Lan`: packets dropped both ways, no reset), restore it on
      leaving.

    A kind that cannot happen to that node raises :class:`NotApplicable` on entering, with the
    reason (an embedded database has no network path); the matrix shows the reason.

Optional attributes: ``description: str`` (one line for the page: nodes, replication, the
settings that matter), ``recovery_bound: float`` (seconds, when the cluster itself may stay
unavailable for a while after a fault ended, longer than :data:`RECOVERY_BOUND` allows; its
description says why), ``settings: dict[str, str]`` (the driver settings shown on the page,
without secrets) and ``replicas(mappings, drivers) -> {node: (mappings, drivers)}``: given the
arguments of a run, ``Realtime`` arguments reading the same table on each node alone (for a
multi-primary cluster, where every node must hold every acknowledged write): the run then
reads everything back on each of them too, and counts the worst node's losses; ``settle()``:
wait until replication has caught up (the run calls it before reading back, where reads may
go to a replica that lags).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ara_realtime import BackendError, Realtime
from ara_realtime.errors import RealtimeError

__all__ = [
    "CALL_BOUND",
    "COLUMNS",
    "CONNECT_TIMEOUT",
    "FAMILY",
    "FAULT_KINDS",
    "QUERY_TIMEOUT",
    "RECOVERY_BOUND",
    "Cluster",
    "NotApplicable",
    "Result",
    "Workload",
    "read_json",
    "run_fault",
    "run_settings",
    "write_json",
]

#: The kinds of fault, in the order the matrix runs them.
FAULT_KINDS = ("kill9", "restart", "stall", "netcut")
#: The family every cluster's mappings map.
FAMILY = "peers"
#: The columns the workload writes (``require`` spelling): the key and a value.
COLUMNS = {"name": ("char", 40), "host": ("char", 40)}
#: Driver settings the matrix runs with (seconds): a stalled node costs a call this long.
QUERY_TIMEOUT = 1.0
CONNECT_TIMEOUT = 2
#: How the matrix runs each cell: the fault lasts HOLD seconds; THREADS threads each make
#: RATE rounds a second of one store, one update and one load.
HOLD = 1.5
THREADS = 2
RATE = 20.0
#: No call may take longer than this (seconds), whatever the fault: a new connection to each
#: host of a list, a ping and a statement, each with its own bound, and slack.
CALL_BOUND = 10.0
#: Calls succeed again at most this many seconds after a fault ended (a node back, a path
#: restored): a new connection (``connect_timeout``), one call that still hits a dead or
#: stalled connection (``query_timeout``), and slack for a loaded 2-core machine.
RECOVERY_BOUND = CONNECT_TIMEOUT + QUERY_TIMEOUT + 3.0


def run_settings() -> dict[str, Any]:
    """The matrix's own settings, as the results page shows them."""
    return {
        "hold_s": HOLD,
        "threads": THREADS,
        "rounds_per_s": RATE,
        "query_timeout_s": QUERY_TIMEOUT,
        "connect_timeout_s": CONNECT_TIMEOUT,
        "recovery_bound_s": RECOVERY_BOUND,
        "call_bound_s": CALL_BOUND,
    }


@runtime_checkable
class Cluster(Protocol):
    """A storage the fault matrix can hurt (see the module's documentation)."""

    name: str
    driver: str
    synchronous: bool

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def mappings(self) -> tuple[Any, dict[str, dict[str, dict[str, str]]]]: ...

    def nodes(self) -> list[str]: ...

    def fault(self, kind: str, node: str) -> AbstractContextManager[None]: ...


class NotApplicable(Exception):
    """This kind of fault cannot happen to this node (the message says why)."""


# -- the workload ------------------------------------------------------------------------------


@dataclass
class Call:
    """One call of the workload: when it started and ended, what it was, how it went."""

    start: float
    end: float
    write: bool
    ok: bool
    error: str = ""
    #: the call failed with an error other than BackendError (a QueryError for a dead server
    #: would send a caller's retry logic the wrong way)
    misclassified: bool = False


@dataclass(frozen=True)
class Write:
    """One write: the value written, whether it was acknowledged, when the call ended."""

    value: int
    acked: bool
    at: float


@dataclass
class Check:
    """What reading everything back found (see :meth:`Workload.check`)."""

    acked: int = 0
    lost: int = 0
    duplicated: int = 0
    #: failed writes (outcome unknown), and how many of them were applied after all
    unknown: int = 0
    unknown_applied: int = 0
    #: of the lost writes, the stores (each a row of its own: every lost one is seen, where
    #: an update is seen lost only if it was the last acknowledged one of its row)
    lost_stores: int = 0
    #: when each lost write was acknowledged (``time.monotonic``)
    lost_at: list[float] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


@dataclass
class _Thread:
    calls: list[Call] = field(default_factory=list)
    #: store name -> the write (value: the sequence number)
    stored: dict[str, Write] = field(default_factory=dict)
    #: update row -> its writes, values increasing (the first is the seed)
    updated: dict[str, list[Write]] = field(default_factory=dict)
    crashed: BaseException | None = None


class Workload:
    """Threads calling ``store``, ``update`` and ``load`` at a steady pace, remembering which
    writes were acknowledged, until :meth:`stop`.

    Names start with ``prefix``; thread ``t`` stores ``<prefix>s<t>n<seq>`` (a new row each
    time, ``host`` = the sequence number) and updates its own rows ``<prefix>u<t>k<k>`` with
    increasing values, so a row's final value tells the last update applied.
    """

    def __init__(
        self,
        rt: Realtime,
        prefix: str,
        *,
        threads: int = 2,
        rate: float = 20.0,
        rows: int = 8,
    ) -> None:
        self.rt = rt
        self.prefix = prefix
        self.rate = rate
        self.rows = rows
        self._threads = [_Thread() for _ in range(threads)]
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    def row(self, t: int, k: int) -> str:
        return f"{self.prefix}u{t}k{k}"

    def seed(self, timeout: float = 30.0) -> None:
        """Store the rows the threads update (retried: the cluster may still be settling)."""
        for t, state in enumerate(self._threads):
            for k in range(self.rows):
                name = self.row(t, k)
                _retry(self.rt.store, FAMILY, {"name": name, "host": "0"}, timeout=timeout)
                state.updated[name] = [Write(0, True, time.monotonic())]

    def start(self) -> None:
        for t, state in enumerate(self._threads):
            worker = threading.Thread(
                target=self._run, args=(t, state), name=f"faultmatrix-{t}", daemon=True
            )
            self._workers.append(worker)
            worker.start()

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)
        for state in self._threads:
            if state.crashed is not None:
                raise state.crashed

    def _call(self, state: _Thread, write: bool, fn: Callable[..., object], *args: Any) -> object:
        start = time.monotonic()
        try:
            result = fn(FAMILY, *args)
        except RealtimeError as exc:
            wrong = not isinstance(exc, BackendError)
            text = f"{type(exc).__name__}: {_short(exc)}" if wrong else _short(exc)
            state.calls.append(Call(start, time.monotonic(), write, False, text, wrong))
            raise
        state.calls.append(Call(start, time.monotonic(), write, True))
        return result

    def _run(self, t: int, state: _Thread) -> None:
        rng = random.Random(t)
        period = 1.0 / self.rate
        seq = 0
        next_at = time.monotonic()
        try:
            while not self._stop.is_set():
                seq += 1
                name = f"{self.prefix}s{t}n{seq}"
                try:
                    n = self._call(state, True, self.rt.store, {"name": name, "host": str(seq)})
                    state.stored[name] = Write(seq, n == 1, time.monotonic())
                except RealtimeError:
                    state.stored[name] = Write(seq, False, time.monotonic())
                row = self.row(t, seq % self.rows)
                try:
                    n = self._call(state, True, self.rt.update, "name", row, {"host": str(seq)})
                    state.updated[row].append(Write(seq, n == 1, time.monotonic()))
                except RealtimeError:
                    state.updated[row].append(Write(seq, False, time.monotonic()))
                other = self.row(t, rng.randrange(self.rows))
                with contextlib.suppress(RealtimeError):
                    self._call(state, False, self.rt.load, ("name", other))
                next_at += period
                delay = next_at - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                else:
                    next_at = time.monotonic()  # behind (a failing call): no burst after
        except BaseException as exc:  # a bug in a driver: reported by stop()
            state.crashed = exc

    # -- what happened -------------------------------------------------------------------

    def calls(self) -> list[Call]:
        return sorted((c for s in self._threads for c in s.calls), key=lambda c: c.start)

    def writes(self, *, updates: bool = True) -> list[Write]:
        """Every write the threads made (the seed excluded): the stores, and the updates."""
        out: list[Write] = []
        for state in self._threads:
            out.extend(state.stored.values())
            if updates:
                for history in state.updated.values():
                    out.extend(history[1:])
        return out

    def check(self, rt: Realtime | None = None) -> Check:
        """Read everything back through ``rt`` (default: the workload's ``Realtime``; another
        one reads what one node holds): acknowledged writes lost, writes applied twice,
        failed writes applied anyway (examples name rows, not values)."""
        rt = rt or self.rt
        stores = _retry(rt.load_multi, FAMILY, ("name LIKE", f"{self.prefix}s%"))
        updates = _retry(rt.load_multi, FAMILY, ("name LIKE", f"{self.prefix}u%"))
        found: dict[str, int] = {}
        for r in stores:
            found[r["name"]] = found.get(r["name"], 0) + 1
        final = {r["name"]: r.get("host", "") for r in updates}
        out = Check()
        for state in self._threads:
            for name, w in state.stored.items():
                n = found.get(name, 0)
                if w.acked:
                    out.acked += 1
                else:
                    out.unknown += 1
                if n > 1:
                    out.duplicated += 1
                    out.examples.append(f"store {name} applied {n} times")
                elif w.acked and n == 0:
                    out.lost += 1
                    out.lost_stores += 1
                    out.lost_at.append(w.at)
                    out.examples.append(f"store {name} acknowledged, not found")
                elif not w.acked and n == 1:
                    out.unknown_applied += 1
            for row, history in state.updated.items():
                written = history[1:]  # after the seed
                out.acked += sum(1 for w in written if w.acked)
                out.unknown += sum(1 for w in written if not w.acked)
                value = final.get(row)
                if (
                    value is None
                    or not value.isdigit()
                    or int(value) not in {w.value for w in history}
                ):
                    out.lost += 1
                    out.examples.append(
                        f"update row {row} missing or holding a value never written"
                    )
                    continue
                lost = [w for w in history if w.acked and w.value > int(value)]
                if lost:
                    out.lost += len(lost)
                    out.lost_at.extend(w.at for w in lost)
                    out.examples.append(
                        f"update row {row}: {len(lost)} acknowledged update(s) lost"
                    )
                elif not any(w.acked and w.value == int(value) for w in history):
                    out.unknown_applied += 1
        out.examples = out.examples[:5]
        return out


def _retry(fn: Callable[..., Any], *args: Any, timeout: float = 30.0) -> Any:
    """``fn(*args)`` until it stops raising BackendError (the cluster settling), within
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn(*args)
        except BackendError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


# -- one run -----------------------------------------------------------------------------------


@dataclass
class Result:
    """One cell of the matrix: a fault of one kind to one node of one cluster."""

    cluster: str
    driver: str
    synchronous: bool
    nodes: int
    fault: str
    node: str
    #: ``ok``, or ``not applicable`` (``note`` says why)
    status: str = "ok"
    note: str = ""
    description: str = ""
    #: seconds the fault lasted (entering to leaving done)
    held_s: float = 0.0
    calls: int = 0
    failed_reads: int = 0
    failed_writes: int = 0
    #: failed calls whose error was not a BackendError (must be 0)
    misclassified: int = 0
    #: the longest call, failed or not (seconds): every call is bounded
    longest_call_s: float = 0.0
    #: calls must succeed again this many seconds after the fault ended, at most
    recovery_bound_s: float = RECOVERY_BOUND
    #: seconds from the first failed read (write) to the first one that succeeded after the
    #: last failed one (0: none failed)
    read_outage_s: float = 0.0
    write_outage_s: float = 0.0
    #: seconds after the fault ended until reads and writes succeeded again (0: they did
    #: while it lasted, as after a failover; ``None``: they did not within the wait)
    recovered_after_s: float | None = 0.0
    #: seconds from the fault's start until reads and writes succeeded again (``None``: none
    #: failed, or they did not recover)
    recovered_from_start_s: float | None = None
    acked_writes: int = 0
    lost_writes: int = 0
    duplicated_writes: int = 0
    #: failed writes (outcome unknown) and how many of them were applied after all
    unknown_writes: int = 0
    unknown_applied: int = 0
    errors: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


def run_fault(
    cluster: Cluster,
    kind: str,
    node: str | None = None,
    *,
    hold: float = HOLD,
    warmup: float = 0.5,
    tail: float = 1.0,
    max_wait: float = 60.0,
    threads: int = THREADS,
    rate: float = RATE,
) -> Result:
    """Run the workload on a fresh table of ``cluster``, fault ``node`` (default: the first)
    with ``kind`` for ``hold`` seconds, wait until calls succeed again (at most ``max_wait``
    seconds after the fault ended) and ``tail`` seconds more, then read everything back."""
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
    nodes = cluster.nodes()
    target = node if node is not None else nodes[0]
    result = Result(
        cluster=cluster.name,
        driver=cluster.driver,
        synchronous=cluster.synchronous,
        nodes=len(nodes),
        fault=kind,
        node=target,
        description=str(getattr(cluster, "description", "")),
        recovery_bound_s=float(getattr(cluster, "recovery_bound", RECOVERY_BOUND)),
    )
    mappings, drivers = cluster.mappings()
    rt = Realtime(mappings, drivers)
    try:
        work = Workload(rt, f"f{os.getpid()}{kind}-", threads=threads, rate=rate)
        work.seed()
        work.start()
        try:
            time.sleep(warmup)
            t0 = time.monotonic()
            try:
                with cluster.fault(kind, target):
                    time.sleep(hold)
            except NotApplicable as exc:
                result.status, result.note = "not applicable", str(exc)
                return result
            t1 = time.monotonic()
            _wait_recovered(work, t1, tail, max_wait)
        finally:
            work.stop()
        calls = work.calls()
        _timing(result, calls, t0, t1)
        settle = getattr(cluster, "settle", None)
        if settle is not None:
            settle()
        found = work.check()
        replicas = getattr(cluster, "replicas", None)
        if replicas is not None:
            for name, (m, d) in replicas(mappings, drivers).items():
                _worst(found, name, work, Realtime(m, d))
    finally:
        rt.close()
    result.acked_writes = found.acked
    result.lost_writes = found.lost
    result.duplicated_writes = found.duplicated
    result.unknown_writes = found.unknown
    result.unknown_applied = found.unknown_applied
    result.examples = found.examples
    return result


def _worst(found: Check, node: str, work: Workload, rt: Realtime) -> None:
    """Read everything back on ``node`` alone (``rt``); keep its losses if they are worse."""
    try:
        there = work.check(rt)
    finally:
        rt.close()
    if there.lost > found.lost or there.duplicated > found.duplicated:
        found.lost = max(found.lost, there.lost)
        found.lost_stores = max(found.lost_stores, there.lost_stores)
        found.duplicated = max(found.duplicated, there.duplicated)
        found.examples = [f"on {node}: {e}" for e in there.examples] + found.examples
        found.examples = found.examples[:5]


def _wait_recovered(work: Workload, t1: float, tail: float, max_wait: float) -> None:
    """Until a write and a read succeeded after the last failure and ``tail`` seconds passed."""
    deadline = t1 + max_wait
    while time.monotonic() < deadline:
        time.sleep(0.1)
        calls = work.calls()
        failures = [c.end for c in calls if not c.ok]
        last = max(failures, default=0.0)
        after = [c for c in calls if c.ok and c.start >= last]
        both = any(c.write for c in after) and any(not c.write for c in after)
        if both and time.monotonic() >= max(t1, min(c.end for c in after)) + tail:
            return


def _timing(result: Result, calls: Sequence[Call], t0: float, t1: float) -> None:
    result.held_s = round(t1 - t0, 3)
    result.calls = len(calls)
    failed = [c for c in calls if not c.ok]
    result.failed_reads = sum(1 for c in failed if not c.write)
    result.failed_writes = sum(1 for c in failed if c.write)
    result.misclassified = sum(1 for c in failed if c.misclassified)
    result.longest_call_s = round(max((c.end - c.start for c in calls), default=0.0), 3)
    seen: dict[str, int] = {}
    for c in failed:  # the reason is at the end, after the backend's name and addresses
        seen[c.error] = seen.get(c.error, 0) + 1
    result.errors = [f"{n} x {text}" for text, n in sorted(seen.items(), key=lambda x: -x[1])][:4]
    back: list[float] = []
    for write in (False, True):
        kind = [c for c in calls if c.write is write]
        failures = [c for c in kind if not c.ok]
        if not failures:
            continue
        last = max(c.end for c in failures)
        first = min(c.start for c in failures)
        ok = [c.end for c in kind if c.ok and c.start >= last]
        outage = round((min(ok) if ok else kind[-1].end) - first, 3)
        if write:
            result.write_outage_s = outage
        else:
            result.read_outage_s = outage
        back.append(min(ok) if ok else float("inf"))
    if not back:
        return
    latest = max(back)
    if latest == float("inf"):
        result.recovered_after_s = None
        return
    result.recovered_after_s = round(max(0.0, latest - t1), 3)
    result.recovered_from_start_s = round(latest - t0, 3)


# -- results as JSON ---------------------------------------------------------------------------


def write_json(results: Sequence[Result], path: Path, settings: dict[str, Any]) -> None:
    """The results, the run's settings and the machine, as JSON (the page's source)."""
    doc = {
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}",
        },
        "settings": settings,
        "results": [asdict(r) for r in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def read_json(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


@contextlib.contextmanager
def started(cluster: Cluster) -> Iterator[Cluster]:
    """Start a cluster for the block and stop it after, whatever happens."""
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
