"""Values no storage can hold are refused before any I/O, in every form the API accepts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ara_realtime import Capabilities, QueryError, Realtime, hookimpl
from ara_realtime.plugins import OPERATION_HOOKS, Plugins


class Recorder:
    """A driver that records every operation it is asked to do (and does nothing)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def ara_connect(self) -> object:
        return object()

    @hookimpl
    def ara_capabilities(self) -> Capabilities:
        return Capabilities.full()


for _op, _hook in OPERATION_HOOKS.items():

    def _impl(self: Recorder, _op: str = _op) -> Any:
        self.calls.append(_op)
        return None if _op == "load" else ([] if _op in ("load_multi", "load_static") else 0)

    _impl.__name__ = _hook
    setattr(Recorder, _hook, hookimpl(_impl))


@pytest.fixture
def recorded(plugins: Plugins) -> tuple[Realtime, Recorder]:
    rec = Recorder()
    plugins.add_driver("recorder", rec)
    return Realtime({"peers": "recorder,db"}, plugins=plugins), rec


def _calls(value: str) -> list[Callable[[Realtime], object]]:
    """Every way a value reaches the API: conditions (each form) and written columns."""
    return [
        lambda rt: rt.load("peers", ("name", value)),
        lambda rt: rt.load("peers", name=value),
        lambda rt: rt.load("peers", {"name": value}),
        lambda rt: rt.load("peers", ("name LIKE", value)),
        lambda rt: rt.load("peers", ("name", "a"), ("host !=", value)),
        lambda rt: rt.load_multi("peers", ("name >", value)),
        lambda rt: rt.update("peers", "name", value, {"host": "h"}),
        lambda rt: rt.update("peers", "name", "a", {"host": value}),
        lambda rt: rt.update("peers", "name", "a", host=value),
        lambda rt: rt.update2("peers", {"name": "a"}, {"host": value}),
        lambda rt: rt.store("peers", {"name": "a", "host": value}),
        lambda rt: rt.store("peers", name=value),
        lambda rt: rt.destroy("peers", "name", value),
        lambda rt: rt.destroy("peers", "name", "a", ("host", value)),
    ]


BAD = {
    "lone high surrogate": "\ud800",
    "lone low surrogate in text": "ab\udfffcd",
    "surrogate after non-ASCII": "ünï\ud83d",
    "NUL": "a\x00b",
}


@pytest.mark.parametrize("value", BAD.values(), ids=BAD.keys())
def test_unstorable_values_are_query_errors_before_any_io(
    recorded: tuple[Realtime, Recorder], value: str
) -> None:
    rt, rec = recorded
    for i, call in enumerate(_calls(value)):
        with pytest.raises(QueryError) as info:
            call(rt)
        assert "surrogate" in str(info.value) or "NUL" in str(info.value), (i, info.value)
        assert info.value.field in ("name", "host"), (i, info.value.field)
    assert rec.calls == []


def test_a_surrogate_pair_written_properly_is_text(recorded: tuple[Realtime, Recorder]) -> None:
    rt, rec = recorded
    for call in _calls("emoji 🎉 and ünïcödé"):
        call(rt)
    assert len(rec.calls) == len(_calls(""))


@pytest.mark.parametrize("name", ["a\x00.conf", "a\ud800.conf", ""])
def test_a_file_name_no_storage_can_hold_is_a_query_error(plugins: Plugins, name: str) -> None:
    rt = Realtime({"other.conf": "memory,db,cfg"}, plugins=plugins)
    with pytest.raises(QueryError):
        rt.load_config(name)
