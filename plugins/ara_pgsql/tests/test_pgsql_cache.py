"""PostgreSQL's change feed under the realtime cache: triggers installed on request, changes by
any client or process seen within a second, keys decoded, restarts survived."""

from __future__ import annotations

import logging
import math
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ara_realtime import Realtime
from ara_realtime.cache import (
    CacheLimits,
    CachePolicy,
    RealtimeCache,
    coherence,
    feed_status,
    install_change_feeds,
    remove_change_feeds,
)
from ara_realtime.changes import Change
from ara_testservers import PostgresServer
from ara_testservers.sqlfixtures import PEER_COLUMNS

#: The issue's bound: a change made elsewhere is seen within a second with the cache on.
BOUND = 1.0

Make = Callable[..., tuple[Realtime, RealtimeCache]]


@pytest.fixture
def table(make_rt: Callable[..., Realtime], sql_tables: Callable[[str], str]) -> str:
    name = sql_tables("pgcache")
    setup = make_rt({"peers": f"pgsql,ara,{name}"}, requirements="createclose")
    assert setup.require("peers", PEER_COLUMNS)
    for peer, host in (("alice", "a"), ("bob", "b"), ("semi;colon", "s")):
        setup.store("peers", {"name": peer, "host": host})
    return name


@pytest.fixture
def cached(make_rt: Callable[..., Realtime], table: str) -> Iterator[Make]:
    made: list[tuple[Realtime, RealtimeCache]] = []

    def make(install: bool = True, **policy: Any) -> tuple[Realtime, RealtimeCache]:
        rt = make_rt({"peers": f"pgsql,ara,{table}"})
        policy.setdefault("ttl", math.inf)
        cache = RealtimeCache({"peers": CachePolicy(**policy)}, CacheLimits()).attach(rt)
        if install:
            (report,) = install_change_feeds(rt)
            assert (
                report.ready and report.feed == "notify" and report.key == policy.get("key", "name")
            )
        rt.load("peers", name="alice")
        made.append((rt, cache))
        return rt, cache

    yield make
    for rt, cache in made:
        cache.detach(rt)
        cache.close()


def _seen(load: Callable[[], Any], expected: Any) -> float:
    start = time.monotonic()
    while load() != expected:
        assert time.monotonic() - start < 10, "never seen"
        time.sleep(0.002)
    return time.monotonic() - start


def test_install_ready_and_remove(make_rt: Callable[..., Realtime], table: str) -> None:
    rt = make_rt({"peers": f"pgsql,ara,{table}", "nokey": f"pgsql,ara,{table}"})
    RealtimeCache({"peers": {}, "nokey": {"key": "nosuchcolumn"}}).attach(rt)
    (before,) = feed_status(rt, ["peers"])
    assert (before.feed, before.ready, before.key) == ("notify", False, "name")
    peers, nokey = install_change_feeds(rt, ["peers", "nokey"])
    assert peers.ready and peers.error is None
    # the same table once: the second family is reported as the first left it
    assert nokey.table == peers.table and nokey.ready
    (bad,) = install_change_feeds(rt, ["nokey"])
    assert not bad.ready and "has no column 'nosuchcolumn'" in (bad.error or "")
    (removed,) = remove_change_feeds(rt, ["peers"])
    assert not removed.ready
    assert install_change_feeds(rt, ["peers"])[0].ready  # installing twice is harmless
    assert install_change_feeds(rt, ["peers"])[0].ready


def test_a_missing_table_is_reported(make_rt: Callable[..., Realtime]) -> None:
    rt = make_rt({"ghost": "pgsql,ara,no_such_table"})
    (report,) = install_change_feeds(rt, ["ghost"])
    assert not report.ready and "does not exist" in (report.error or "")


def test_a_change_by_any_client_is_seen_within_a_second(
    cached: Make, sql: Callable[..., Any], table: str
) -> None:
    rt, cache = cached()
    assert cache.wait_coherent(10)
    assert rt.load("peers", name="bob") == {"name": "bob", "host": "b"}
    sql(f'UPDATE "{table}" SET host = %s WHERE name = %s', ("psql", "alice"))
    assert _seen(lambda: rt.load("peers", name="alice"), {"name": "alice", "host": "psql"}) < BOUND
    hits = cache.stats().family("peers").hits
    rt.load("peers", name="bob")
    assert cache.stats().family("peers").hits == hits + 1  # bob's row stayed
    sql(f'INSERT INTO "{table}" (name, host) VALUES (%s, %s)', ("dave", "d"))
    assert _seen(lambda: rt.load("peers", name="dave"), {"name": "dave", "host": "d"}) < BOUND
    sql(f'DELETE FROM "{table}" WHERE name = %s', ("dave",))
    assert _seen(lambda: rt.load("peers", name="dave"), None) < BOUND


def test_a_change_by_another_process_is_seen_within_a_second(
    cached: Make, pg_server: PostgresServer, table: str
) -> None:
    rt, cache = cached()
    assert cache.wait_coherent(10)
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    script = textwrap.dedent(
        f"""
        import sys, time
        from ara_realtime import Realtime
        settings = {pg_server.settings()!r}
        rt = Realtime({{"peers": "pgsql,ara,{table}"}}, {{"pgsql": {{"ara": settings}}}})
        rt.load("peers", name="bob")  # connected: the next statement is only the write
        assert rt.update("peers", "name", "alice", {{"host": "other process"}}) == 1
        print(time.time(), flush=True)
        rt.close()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=True, timeout=120, capture_output=True, text=True
    )
    committed = float(done.stdout.split()[0])
    expected = {"name": "alice", "host": "other process"}
    while rt.load("peers", name="alice") != expected:
        assert time.time() - committed < BOUND, "the other process's change was not seen in time"
        time.sleep(0.002)
    assert time.time() - committed < BOUND


def test_keys_are_decoded_and_big_statements_name_the_table(
    cached: Make, sql: Callable[..., Any], table: str
) -> None:
    rt, cache = cached()
    assert cache.wait_coherent(10)
    rt.load("peers", name="semi;colon")
    rt.load("peers", name="bob")
    sql(f'UPDATE "{table}" SET host = %s WHERE name = %s', ("x", "semi^3Bcolon"))
    assert (
        _seen(lambda: rt.load("peers", name="semi;colon"), {"name": "semi;colon", "host": "x"})
        < BOUND
    )
    assert cache.stats().family("peers").invalidations == 1
    assert cache.stats().entries >= 2  # bob's and semi;colon's rows at least
    sql(
        f'INSERT INTO "{table}" (name) SELECT %s || g FROM generate_series(1, 1000) g',
        ("a-rather-long-peer-name-",),
    )  # too many keys for one notification: the whole table
    assert _seen(lambda: cache.stats().entries, 0) < BOUND


def test_truncate_and_tables_without_a_key_drop_everything(
    cached: Make, sql: Callable[..., Any], table: str
) -> None:
    rt, cache = cached(key=None)
    assert cache.wait_coherent(10)
    rt.load("peers", name="alice")
    rt.load("peers", name="bob")
    assert cache.stats().entries == 2
    sql(f'UPDATE "{table}" SET host = %s WHERE name = %s', ("y", "alice"))
    assert _seen(lambda: cache.stats().entries, 0) < BOUND
    rt.load("peers", name="bob")
    sql(f'TRUNCATE "{table}"')
    assert _seen(lambda: rt.load("peers", name="bob"), None) < BOUND


def test_without_triggers_rows_live_their_ttl_until_installed(
    cached: Make,
    make_rt: Callable[..., Realtime],
    sql: Callable[..., Any],
    table: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(coherence, "RECHECK", 0.2)
    with caplog.at_level(logging.WARNING, logger="ara_realtime.cache.coherence"):
        rt, cache = cached(install=False)
        assert cache.wait_coherent(10)
    assert cache.stats().backends[0].tables == {table: "none"}
    assert any("realtime cache install" in r.getMessage() for r in caplog.records)
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    sql(f'UPDATE "{table}" SET host = %s WHERE name = %s', ("unseen", "alice"))
    time.sleep(0.3)
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}  # ttl only
    install_change_feeds(make_rt({"peers": f"pgsql,ara,{table}"}), ["peers"])
    _seen(lambda: cache.stats().backends[0].tables, {table: "live"})
    # subscribing again expired what was read before: the change made meanwhile is seen
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "unseen"}


def test_the_feed_survives_a_server_restart(
    cached: Make, pg_server: PostgresServer, sql: Callable[..., Any], table: str
) -> None:
    rt, cache = cached(stale_if_error=60)
    assert cache.wait_coherent(10)
    assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}
    pg_server.stop()
    try:
        _seen(lambda: cache.stats().backends[0].tables, {table: "down"})
        assert rt.load("peers", name="alice") == {"name": "alice", "host": "a"}  # on error
    finally:
        pg_server.restart()
    assert cache.wait_coherent(30)
    sql(f'UPDATE "{table}" SET host = %s WHERE name = %s', ("after restart", "alice"))
    assert (
        _seen(lambda: rt.load("peers", name="alice"), {"name": "alice", "host": "after restart"})
        < BOUND
    )
    assert cache.stats().family("peers").error_hits >= 1


def test_the_listener_reports_what_it_cannot_read(table: str) -> None:
    from ara_pgsql.changes import _Listener

    listener = object.__new__(_Listener)
    listener.tables = frozenset({table})
    listener._label = "test"
    listener._codec = True
    out: list[Change] = []
    assert listener._take("not json", out) is True
    assert listener._take('{"s": "public", "t": "other", "c": "name", "v": ["a"]}', out) is False
    assert out == []
    listener._take(
        f'{{"s": "public", "t": "{table}", "c": "name", "v": ["a^3B", null, "b "]}}', out
    )
    assert out == [Change(table, "name", frozenset({"a;", "", "b ", "b"}))]
    listener._take(f'{{"s": "public", "t": "{table}", "c": "port", "v": [5]}}', out)
    assert out[-1] == Change(table)


def test_a_read_only_role_on_one_server_still_listens(
    cached: Make,
    make_rt: Callable[..., Realtime],
    sql: Callable[..., Any],
    pg_server: PostgresServer,
    table: str,
) -> None:
    """A reader whose role is read-only (``default_transaction_read_only``) on a single server
    is not a fenced primary: its feed listens and changes made by others are seen."""
    cached()  # the triggers, installed by a writer
    pg_server.psql(
        "CREATE ROLE ara_reader LOGIN PASSWORD 'reader-pw'",
        "ALTER ROLE ara_reader SET default_transaction_read_only = on",
    )
    pg_server.psql(f'GRANT SELECT ON "{table}" TO ara_reader', database="ara")
    reader = make_rt({"peers": f"pgsql,ara,{table}"}, user="ara_reader", password="reader-pw")
    cache = RealtimeCache({"peers": CachePolicy(ttl=math.inf)}, CacheLimits()).attach(reader)
    try:
        assert reader.load("peers", name="alice") == {"name": "alice", "host": "a"}
        assert cache.wait_coherent(10), cache.stats().backends
        sql(f'UPDATE "{table}" SET host = %s WHERE name = %s', ("ro", "alice"))
        seen = _seen(lambda: reader.load("peers", name="alice"), {"name": "alice", "host": "ro"})
        assert seen < BOUND
        assert cache.stats().backends[0].feed_errors == 0
    finally:
        cache.detach(reader)
        cache.close()
        reader.close()
        pg_server.psql("DROP OWNED BY ara_reader", database="ara")
        pg_server.psql("DROP ROLE ara_reader")
