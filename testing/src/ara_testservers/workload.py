"""A small read/write workload through ``Realtime``, recording what each call was told.

Each worker thread repeats: ``store`` a new row under a name of its own, ``update`` it with
an increasing value, ``load`` it. Every call's outcome is recorded with its time, so a test
can tell after a fault:

* ``failed``: calls that raised (``BackendError``; a ``QueryError`` is kept apart: it is
  never acceptable from this workload, whose calls are all valid);
* ``recovery``: from a moment given (the fault) to the end of the first call that succeeded
  after the last failed one (0 if none failed); ``gap``: the longest time in which no call
  succeeded (what a caller sees of the fault); ``slowest``: the longest call;
* ``lost``: acknowledged writes the storage does not hold afterwards: a stored row missing, or
  a row whose value is older than its last acknowledged update (later, unacknowledged
  updates may or may not have been applied: both are fine);
* ``duplicated``: a name held by more than one row.

``verify(rows)`` takes the rows as the storage holds them (read without the driver).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ara_realtime import BackendError, QueryError, Realtime

__all__ = ["Outcome", "Workload"]

_now = time.monotonic


@dataclass
class Outcome:
    """What the workload saw, and what the storage holds."""

    calls: int = 0
    failed: int = 0
    query_errors: list[str] = field(default_factory=list)
    recovery: float = 0.0
    gap: float = 0.0
    slowest: float = 0.0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.calls} calls, {self.failed} failed, recovered in {self.recovery:.2f} s, "
            f"longest gap without a success {self.gap:.2f} s, slowest call {self.slowest:.2f} s, "
            f"{len(self.lost)} writes lost, {len(self.duplicated)} duplicated; "
            f"first errors: {self.errors[:3]}"
        )


class Workload:
    """``threads`` workers writing and reading family ``family`` through ``rt``."""

    def __init__(
        self,
        rt: Realtime,
        family: str = "peers",
        *,
        threads: int = 3,
        prefix: str = "w",
        pause: float = 0.005,
    ) -> None:
        self.rt = rt
        self.family = family
        self.threads = threads
        self.prefix = prefix
        self.pause = pause
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        #: (start, end, ok) of every call, in the order they ended
        self.log: list[tuple[float, float, bool]] = []
        self.stored: set[str] = set()
        #: name -> the value of its last acknowledged update
        self.updated: dict[str, int] = {}
        self.outcome = Outcome()

    def __enter__(self) -> Workload:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        for n in range(self.threads):
            t = threading.Thread(target=self._work, args=(n,), daemon=True, name=f"load-{n}")
            self._workers.append(t)
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._workers:
            t.join(60)

    def wait_calls(self, count: int, timeout: float = 30.0) -> None:
        """Wait until ``count`` more calls succeeded (the workload is running)."""
        with self._lock:
            goal = sum(ok for *_, ok in self.log) + count
        deadline = _now() + timeout
        while _now() < deadline:
            with self._lock:
                if sum(ok for *_, ok in self.log) >= goal:
                    return
            time.sleep(0.02)
        raise AssertionError(f"the workload made no progress within {timeout:g} s")

    def _record(self, start: float, ok: bool, error: BaseException | None = None) -> None:
        with self._lock:
            self.log.append((start, _now(), ok))
            self.outcome.calls += 1
            if not ok:
                self.outcome.failed += 1
                if len(self.outcome.errors) < 20:
                    self.outcome.errors.append(f"{type(error).__name__}: {error}")
                if isinstance(error, QueryError):
                    self.outcome.query_errors.append(str(error))

    def _call(self, fn: Callable[..., object], *args: object, **kw: str) -> object:
        start = _now()
        try:
            result = fn(*args, **kw)
        except (BackendError, QueryError) as exc:
            self._record(start, False, exc)
            return exc
        self._record(start, True)
        return result

    def _work(self, n: int) -> None:
        rt, fam = self.rt, self.family
        i = 0
        while not self._stop.is_set():
            name = f"{self.prefix}{n}-{i}"
            got = self._call(rt.store, fam, {"name": name, "host": "h0"})
            if got == 1:
                with self._lock:
                    self.stored.add(name)
                for value in (1, 2):
                    got = self._call(rt.update, fam, "name", name, {"host": f"h{value}"})
                    if got == 1:
                        with self._lock:
                            self.updated[name] = value
                self._call(rt.load, fam, name=name)
            i += 1
            time.sleep(self.pause)

    def verify(self, rows: Iterable[tuple[str, str]], since: float = 0.0) -> Outcome:
        """Compare ``(name, host)`` rows the storage holds with what was acknowledged;
        ``since`` (``time.monotonic()``) is when the fault began, for ``recovery``."""
        out = self.outcome
        held: dict[str, list[str]] = {}
        for name, host in rows:
            if name.startswith(self.prefix):
                held.setdefault(name, []).append(host)
        out.duplicated = sorted(n for n, hosts in held.items() if len(hosts) > 1)
        lost = [n for n in self.stored if n not in held]
        for name, value in self.updated.items():
            hosts = held.get(name)
            if hosts and int(hosts[0].lstrip("h") or 0) < value:
                lost.append(f"{name} (update to h{value})")
        out.lost = sorted(lost)
        with self._lock:
            log = sorted(self.log)
        out.slowest = max((end - start for start, end, _ in log), default=0.0)
        successes = sorted(end for _, end, ok in log if ok and end >= since)
        marks = [since, *successes] if since else successes
        out.gap = max((b - a for a, b in itertools.pairwise(marks)), default=0.0)
        failures = [start for start, end, ok in log if not ok and end >= since]
        if failures:
            last = max(failures)
            ends = [end for start, end, ok in log if ok and start > last]
            out.recovery = (min(ends) if ends else float("inf")) - since
        return out
