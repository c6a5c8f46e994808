"""The switch resolves every dialled number as ``patterns.find`` over the whole context does,
with the rows stored in and read back from real storage: sqlite3 and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ara_pgsql.driver import quote
from ara_realtime import Realtime, patterns
from ara_realtime.plugins import Plugins
from ara_realtime.switch import RealtimeSwitch
from ara_testservers import PostgresServer
from ara_testservers.fixtures import pg_server

__all__ = ["pg_server"]

COLUMNS = {
    "context": ("char", 40),
    "exten": ("char", 40),
    "priority": ("integer4", 11),  # as Asterisk's schema
    "app": ("char", 40),
    "appdata": ("char", 256),
}
MODES = ("match", "canmatch", "matchmore")
_contexts = itertools.count(1)


@pytest.fixture(scope="module", params=["sqlite3", "pgsql"])
def storage(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Realtime]:
    if request.param == "sqlite3":
        path = tmp_path_factory.mktemp("switch") / "pbx.db"
        settings_ = {"sqlite3": {"pbx": {"dbfile": str(path), "requirements": "createclose"}}}
        rt = Realtime({"extensions": "sqlite3,pbx"}, settings_, plugins=Plugins())
        assert rt.require("extensions", COLUMNS)
        yield rt
        rt.close()
        return
    pg: PostgresServer = request.getfixturevalue("pg_server")
    table = f"switch_ext_{next(_contexts)}"
    settings_ = {"pgsql": {"ara": {**pg.settings(), "requirements": "createclose"}}}
    rt = Realtime({"extensions": f"pgsql,ara,{table}"}, settings_, plugins=Plugins())
    assert rt.require("extensions", COLUMNS)
    yield rt
    rt.close()
    conn_args: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": pg.port,
        "user": pg.user,
        "password": pg.password,
        "dbname": pg.database,
    }
    with psycopg.connect(**conn_args, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {quote(table)}")


ODD = "_0129XNZxnz.!-[] a#"
names = st.text(alphabet=ODD, max_size=9).filter(lambda s: s.replace(" ", ""))
pattern_names = st.text(alphabet=ODD, max_size=8).map(lambda s: "_" + s)
rows_strategy = st.lists(
    st.tuples(st.one_of(names, pattern_names), st.sampled_from(["1", "2"])),
    max_size=12,
    unique=True,  # (context, exten, priority) is the table's key in Asterisk's schema
)
dialed_strs = st.text(alphabet="0123456789#*-a_X.[] ", max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, dialed=st.lists(dialed_strs, min_size=1, max_size=4))
def test_switch_is_find_over_the_stored_context(
    storage: Realtime, rows: list[tuple[str, str]], dialed: list[str]
) -> None:
    context = f"ctx{next(_contexts)}"
    for exten, priority in rows:
        storage.store(
            "extensions",
            {"context": context, "exten": exten, "priority": priority, "app": "NoOp"},
        )
    switch = RealtimeSwitch(storage)
    for number, priority, mode in itertools.product(dialed, ("1", "2"), MODES):
        extens = sorted(e for e, p in rows if p == priority)  # the lowest spelling first
        expected = patterns.find(extens, number, mode)  # type: ignore[arg-type]
        found = switch.lookup(context, number, priority, mode=mode)  # type: ignore[arg-type]
        assert (found.exten if found else None) == expected, (number, priority, mode)
    # a number built to fit one of the patterns reaches deep into the index
    if rows:
        exten, priority = rows[0]
        if exten.startswith("_"):
            fitting = _fitting(exten)
            expected = patterns.find(sorted(e for e, p in rows if p == priority), fitting)
            found = switch.lookup(context, fitting, priority)
            assert (found.exten if found else None) == expected


def _fitting(pattern: str) -> str:
    """A dialled string that walks ``pattern``'s program as far as it goes."""
    out = []
    for tok in patterns._compile(pattern).tokens:
        if tok == -1:
            continue
        if tok < 0:
            out.append("7" if tok == -2 else "")
            break
        members = [chr(b) for b in range(128) if (tok >> b) & 1 and chr(b) != "-"]
        out.append(members[len(members) // 2] if members else "")
    return "".join(out)


def test_rows_round_trip_as_written(storage: Realtime) -> None:
    """Odd characters reach the index unchanged (the property above relies on it)."""
    context = f"ctx{next(_contexts)}"
    extens = ["_1 2[3-5]", "_[]X!", " 12 ", "_a#[-0]", "_9[1"]
    for exten in extens:
        storage.store("extensions", {"context": context, "exten": exten, "priority": "1"})
    got = {r["exten"] for r in storage.load_multi("extensions", ("context", context))}
    assert got == set(extens)
    switch = RealtimeSwitch(storage)
    assert switch.lookup(context, "124").exten == "_1 2[3-5]"  # type: ignore[union-attr]
    assert switch.lookup(context, "12").exten == " 12 "  # type: ignore[union-attr]
    assert switch.lookup(context, "a#0").exten == "_a#[-0]"  # type: ignore[union-attr]
