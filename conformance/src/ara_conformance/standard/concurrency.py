"""Area ``concurrency``: one ``Realtime`` shared by threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ara_realtime.capabilities import Operation

from .._areas import conformance, register_standard
from .._base import ConformanceBase
from .._target import Session
from ._common import FAM

__all__ = ["ConcurrencyTests"]


_THREADS = 4
_BUDGET = 60.0


def _run_threads(work: Callable[[int], None], threads: int = _THREADS) -> None:
    errors: list[tuple[int, BaseException]] = []
    start = threading.Barrier(threads)

    def run(n: int) -> None:
        try:
            start.wait(timeout=10)
            work(n)
        except BaseException as exc:
            errors.append((n, exc))

    pool = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(threads)]
    deadline = time.monotonic() + _BUDGET
    for t in pool:
        t.start()
    for t in pool:
        t.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in pool if t.is_alive()]
    assert not alive, f"threads still running after {_BUDGET:.0f}s (deadlock?): {alive}"
    if errors:
        n, exc = errors[0]
        raise AssertionError(f"thread {n} failed: {type(exc).__name__}: {exc}") from exc


_CONCURRENT_OPS: tuple[Operation, ...] = (
    "store",
    "load",
    "load_multi",
    "update",
    "update2",
    "destroy",
)


@register_standard
class ConcurrencyTests(ConformanceBase):
    """One ``Realtime`` shared by threads: no lost writes, exact counts, no deadlock."""

    @conformance("concurrency", ops=_CONCURRENT_OPS)
    def test_threads_on_disjoint_keys(self, ara: Session) -> None:
        """Each thread works on its own rows; every count and read is exact."""
        rt, per = ara.rt, 12

        def work(t: int) -> None:
            for i in range(per):
                name = f"t{t}-{i}"
                row = {"name": name, "host": f"h{t}", "port": str(i)}
                assert rt.store(FAM, row) == 1
                assert rt.load(FAM, name=name) == row, f"read-your-write failed for {name}"
                assert rt.update(FAM, "name", name, {"context": "c"}) == 1
                if i % 3 == 0:
                    assert rt.destroy(FAM, "name", name) == 1
            got = rt.load_multi(FAM, ("host", f"h{t}"), ("context", "c"))
            assert len(got) == per - len(range(0, per, 3)), f"thread {t}: {len(got)} rows"
            assert rt.update2(FAM, {"host": f"h{t}"}, {"secret": "s"}) == len(got)

        _run_threads(work)
        total = rt.load_multi(FAM, ("name LIKE", "t%"))
        assert len(total) == _THREADS * (per - len(range(0, per, 3))), "rows lost or duplicated"
        assert all(r.get("secret") == "s" and r.get("context") == "c" for r in total)

    @conformance("concurrency", ops=_CONCURRENT_OPS)
    def test_threads_on_shared_keys(self, ara: Session) -> None:
        """Threads update the same rows and insert rows with a shared value: nothing lost."""
        rt, shared, per = ara.rt, 5, 12
        for i in range(shared):
            rt.store(FAM, {"name": f"s{i}", "host": "shared"})

        def work(t: int) -> None:
            for i in range(per):
                assert rt.update(FAM, "host", "shared", {"context": f"t{t}"}) == shared
                assert rt.store(FAM, {"name": f"n{t}-{i}", "host": "common"}) == 1
                assert (
                    rt.update2(FAM, {"host": "common", "name": f"n{t}-{i}"}, {"port": str(i)}) == 1
                )
                assert len(rt.load_multi(FAM, ("host", "shared"))) == shared
                assert rt.destroy(FAM, "name", f"gone{t}-{i}") == 0

        _run_threads(work)
        common = rt.load_multi(FAM, ("host", "common"))
        assert len(common) == _THREADS * per, f"lost writes: {len(common)} of {_THREADS * per}"
        assert {(r["name"], r["port"]) for r in common} == {
            (f"n{t}-{i}", str(i)) for t in range(_THREADS) for i in range(per)
        }
        rows_shared = rt.load_multi(FAM, ("host", "shared"))
        assert len(rows_shared) == shared
        assert {r["context"] for r in rows_shared} <= {f"t{t}" for t in range(_THREADS)}
