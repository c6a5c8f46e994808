"""What an SQL driver must do when its server misbehaves, on a real server (shared tests).

A driver's test module runs these with ``from ara_testservers.sqlserver import *``; the
fixtures (``rt``, ``make_rt``, ``sql_tables``, ``sql_server`` with ``stop()`` and
``restart()``, ``sql_driver``) come from :mod:`ara_testservers.sqlfixtures`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from ara_realtime import BackendError, Realtime

__all__ = [
    "test_pool_exhaustion_times_out_clearly",
    "test_server_down_is_a_backend_error_then_recovers",
    "test_server_restart_costs_at_most_one_failed_call",
    "test_threads_share_the_pool",
]


def test_server_restart_costs_at_most_one_failed_call(sql_server: Any, rt: Realtime) -> None:
    for i in range(20):
        rt.store("peers", {"name": f"p{i}", "port": str(i)})
    failures: list[str] = []
    for i in range(150):
        if i == 50:
            sql_server.restart()
        try:
            assert rt.load("peers", name=f"p{i % 20}") is not None
        except BackendError as exc:
            failures.append(f"load {i}: {exc}")
    assert failures == []  # a read is retried once on a fresh connection
    for i in range(60):
        if i == 30:
            sql_server.restart()
        try:
            rt.update("peers", "name", f"p{i % 20}", {"lastms": str(i)})
        except BackendError as exc:
            failures.append(f"update {i}: {exc}")
    assert len(failures) <= 1, failures


def test_server_down_is_a_backend_error_then_recovers(
    sql_server: Any, rt: Realtime, sql_driver: str
) -> None:
    rt.store("peers", {"name": "a"})
    sql_server.stop()
    try:
        with pytest.raises(BackendError, match=f"{sql_driver} database 'ara'"):
            rt.load("peers", name="a")
    finally:
        sql_server.restart()
    time.sleep(0.05)
    rt._backends[(sql_driver, "ara")].failed_until = 0  # no back-off
    assert rt.load("peers", name="a") == {"name": "a"}


def test_pool_exhaustion_times_out_clearly(
    make_rt: Callable[..., Realtime], sql_tables: Callable[[str], str], sql_driver: str
) -> None:
    table = sql_tables("pool")
    rt = make_rt(
        {"fam": f"{sql_driver},tiny,{table}"},
        database="tiny",
        requirements="createclose",
        pool_size="1",
        pool_overflow="0",
        pool_timeout="0.2",
    )
    assert rt.require("fam", {"name": ("char", 10)})
    assert rt.load("fam", name="x") is None
    conn = rt._backends[(sql_driver, "tiny")].connection
    held = conn.reader.acquire()
    try:
        start = time.monotonic()
        with pytest.raises(
            BackendError, match=rf"{sql_driver} database 'tiny'.*pool_timeout = 0\.2 s"
        ):
            rt.load("fam", name="x")
        assert time.monotonic() - start < 2
    finally:
        conn.reader.release(held)
    assert rt.load("fam", name="x") is None


def test_threads_share_the_pool(rt: Realtime) -> None:
    for i in range(50):
        rt.store("peers", {"name": f"t{i}", "port": str(i)})
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(200):
                row = rt.load("peers", name=f"t{(i + k) % 50}")
                assert row is not None and row["port"] == str((i + k) % 50)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
