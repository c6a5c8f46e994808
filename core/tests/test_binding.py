"""``ara_bind``: plugins wrap a backend's bound operations once; ``ara_change_feed`` reached."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ara_realtime import BackendError, ConfigError, NotSupported, Realtime, hookimpl
from ara_realtime.binding import Binding
from ara_realtime.changes import ChangeFeed
from ara_realtime.driver import Connection, ConnectionDriver
from ara_realtime.drivers import memory
from ara_realtime.plugins import Plugins


@pytest.fixture
def mem() -> Iterator[str]:
    memory.create_table("bind-mem", "peers", ["name", "host"])
    yield "bind-mem"
    memory.reset("bind-mem")


class Counting:
    """Wraps ``load`` once per binding and counts the calls in plain Python."""

    def __init__(self) -> None:
        self.bindings: list[Binding] = []
        self.loads = 0

    @hookimpl
    def ara_bind(self, binding: Binding) -> None:
        self.bindings.append(binding)
        inner = binding.ops["load"]

        def load(family: str, table: str, conditions: Any) -> Any:
            self.loads += 1
            return inner(family, table, conditions)

        binding.ops["load"] = load


def test_a_plugin_wraps_the_bound_operation_once(plugins: Plugins, mem: str) -> None:
    counting = Counting()
    plugins.add_plugin(counting, name="counting")
    rt = Realtime({"p": f"memory,{mem},peers", "q": f"memory,{mem},peers"}, plugins=plugins)
    rt.store("p", {"name": "a", "host": "h"})
    for _ in range(3):
        assert rt.load("p", name="a") == {"name": "a", "host": "h"}
    assert rt.load("q", name="a") == {"name": "a", "host": "h"}
    assert counting.loads == 4
    (binding,) = counting.bindings  # one backend, bound once for every call and family
    assert binding.driver == "memory" and binding.database == mem
    assert binding.label == f"memory:{mem}" and repr(binding) == f"<Binding memory:{mem}>"
    assert dict(binding.tables) == {"p": "peers", "q": "peers"}
    assert binding.capabilities.change_feed == "notify"
    assert isinstance(binding.change_feed(), ChangeFeed)
    assert binding.realtime is rt


def test_adding_or_removing_a_plugin_binds_again(plugins: Plugins, mem: str) -> None:
    rt = Realtime({"p": f"memory,{mem},peers"}, plugins=plugins)
    rt.store("p", {"name": "a"})
    counting = Counting()
    name = plugins.add_plugin(counting)
    rt.load("p", name="a")
    assert counting.loads == 1 and len(counting.bindings) == 1
    plugins.remove_plugin(name)
    rt.load("p", name="a")
    assert counting.loads == 1  # the wrapper is gone with the plugin


def test_a_wrapped_operation_keeps_failover(plugins: Plugins, mem: str) -> None:
    memory.create_table("bind-mem-2", "peers", ["name"])
    memory.store("bind-mem-2").store("p", "peers", (("name", "b"),))

    class Down:
        @hookimpl
        def ara_bind(self, binding: Binding) -> None:
            if binding.database != mem:
                return

            def load(family: str, table: str, conditions: Any) -> Any:
                raise BackendError("primary is down")

            binding.ops["load"] = load

    plugins.add_plugin(Down())
    rt = Realtime(
        {"p": [f"memory,{mem},peers,1", "memory,bind-mem-2,peers,2"]},
        plugins=plugins,
    )
    assert rt.load("p", name="b") == {"name": "b"}
    memory.reset("bind-mem-2")


def test_a_plugin_may_add_an_operation(plugins: Plugins) -> None:
    class LoadOnly(Connection):
        def __init__(self, database: str, settings: object, config_dir: object) -> None:
            pass

        def load(self, family: str, table: str, conditions: Any) -> None:
            return None

    class Static:
        @hookimpl
        def ara_bind(self, binding: Binding) -> None:
            binding.ops["load_static"] = lambda table, filename: [("general", "a", "1", 0, 0)]

    plugins.add_driver("loadonly", ConnectionDriver(LoadOnly))
    rt = Realtime({"x.conf": "loadonly,main"}, plugins=plugins)
    with pytest.raises(NotSupported):
        rt.load_config("x.conf")
    plugins.add_plugin(Static())
    assert rt.load_config("x.conf").get("general", "a") == "1"


@pytest.mark.parametrize(
    ("op", "fn", "message"),
    [("loadd", lambda *a: None, "'loadd'"), ("load", "not callable", "str")],
)
def test_a_binding_left_unusable_is_refused(
    plugins: Plugins, mem: str, op: str, fn: Any, message: str
) -> None:
    class Bad:
        @hookimpl
        def ara_bind(self, binding: Binding) -> None:
            binding.ops[op] = fn

    plugins.add_plugin(Bad())
    rt = Realtime({"p": f"memory,{mem},peers"}, plugins=plugins)
    with pytest.raises(ConfigError, match=message):
        rt.load("p", name="a")


def test_plugins_bind_in_pluggy_order_each_seeing_the_last(plugins: Plugins, mem: str) -> None:
    seen: list[str] = []

    def layer(tag: str) -> object:
        class Layer:
            @hookimpl
            def ara_bind(self, binding: Binding) -> None:
                inner: Callable[..., Any] = binding.ops["load"]

                def load(*args: Any) -> Any:
                    seen.append(tag)
                    return inner(*args)

                binding.ops["load"] = load

        return Layer()

    plugins.add_plugin(layer("first"))
    plugins.add_plugin(layer("second"))  # runs first (pluggy: last registered first) ...
    rt = Realtime({"p": f"memory,{mem},peers"}, plugins=plugins)
    rt.load("p", name="a")
    assert seen == ["first", "second"]  # ... so the first registered wraps outermost


def test_change_feeds_of_each_backend(plugins: Plugins, mem: str, tmp_path: Path) -> None:
    rt = Realtime(
        {
            "p": [f"memory,{mem},peers,1", "sqlite3,db,peers,2"],
            "mem": "sqlite3,ram,peers",
        },
        {"sqlite3": {"db": {"dbfile": str(tmp_path / "f.db")}, "ram": {"dbfile": ":memory:"}}},
        plugins=plugins,
    )
    (first, second) = rt.change_feeds("p")
    assert first[:2] == (f"memory:{mem}", "peers") and first[2] is not None
    assert second[:2] == ("sqlite3:db", "peers")
    assert second[2] is not None and second[2].kind == "poll"
    assert rt.change_feeds("mem") == [("sqlite3:ram", "peers", None)]  # :memory: has none
    rt.close()


def test_a_driver_whose_feed_is_not_a_change_feed_is_refused(plugins: Plugins) -> None:
    class Odd:
        @hookimpl
        def ara_connect(self) -> object:
            return object()

        @hookimpl
        def ara_change_feed(self) -> object:
            return "a feed"

    plugins.add_driver("odd", Odd())
    rt = Realtime({"p": "odd,x"}, plugins=plugins)
    with pytest.raises(ConfigError, match="ara_change_feed returned str"):
        rt.change_feeds("p")
