"""Discovery, lazy loading, the allow-list, wrappers and refusal of ill-fitting drivers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Generator
from pathlib import Path
from typing import ClassVar

import pytest

from ara_realtime import (
    Capabilities,
    Condition,
    ConfigError,
    NotSupported,
    Realtime,
    hookimpl,
)
from ara_realtime.drivers import memory
from ara_realtime.plugins import Plugins

THIRD_PARTY = '''
"""A third-party driver: rows in a Python dict, installed as its own distribution."""
from ara_realtime import Capabilities, hookimpl

ROWS = {}

@hookimpl
def ara_capabilities():
    return Capabilities(operations=frozenset({"load", "store"}))

@hookimpl
def ara_connect(database, settings):
    return {"db": database, "greeting": settings.get("greeting", "")}

@hookimpl
def ara_load(connection, table, conditions):
    for row in ROWS.get(table, []):
        if all(row.get(c.column, "") == c.value for c in conditions):
            return {k: v for k, v in row.items() if v}
    return None

@hookimpl
def ara_store(connection, table, values):
    ROWS.setdefault(table, []).append(dict(values))
    return 1
'''


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install ``ara-dictdriver`` (entry point ``dictdb``) into a directory on sys.path."""
    site = tmp_path / "site"
    (site / "ara_dictdriver").mkdir(parents=True)
    (site / "ara_dictdriver" / "__init__.py").write_text(THIRD_PARTY)
    info = site / "ara_dictdriver-0.3.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ara-dictdriver\nVersion: 0.3.1\n")
    (info / "entry_points.txt").write_text("[ara_realtime.drivers]\ndictdb = ara_dictdriver\n")
    monkeypatch.syspath_prepend(str(site))
    return site


def test_builtins_are_listed_through_entry_points(plugins: Plugins) -> None:
    infos = {i.name: i for i in plugins.describe()}
    assert {"sqlite3", "memory"} <= set(infos)
    for name in ("sqlite3", "memory"):
        info = infos[name]
        assert info.builtin and info.distribution == "ara-realtime" and info.version
        assert info.capabilities is not None and info.capabilities.supports("load")
        assert info.error is None


def test_third_party_driver_serves_a_mapping(third_party: Path) -> None:
    plugins = Plugins()
    assert "ara_dictdriver" not in sys.modules  # nothing imported until a mapping names it
    assert "dictdb" in plugins.driver_names()
    rt = Realtime(
        {"things": "dictdb,main,things"}, {"dictdb": {"main": {"greeting": "hi"}}}, plugins=plugins
    )
    assert "ara_dictdriver" not in sys.modules
    assert rt.store("things", {"name": "x", "colour": "red"}) == 1
    assert "ara_dictdriver" in sys.modules
    assert rt.load("things", name="x") == {"name": "x", "colour": "red"}
    info = {i.name: i for i in plugins.describe()}["dictdb"]
    assert (info.distribution, info.version, info.builtin) == ("ara-dictdriver", "0.3.1", False)
    assert info.hooks == ("load", "store")


def test_cli_lists_the_third_party_driver(third_party: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(third_party)}
    out = subprocess.run(
        [sys.executable, "-m", "ara_realtime.cli", "--json", "drivers"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    names = {d["name"]: d for d in json.loads(out.stdout)}
    assert names["dictdb"]["distribution"] == "ara-dictdriver"
    assert names["dictdb"]["capabilities"]["operations"] == ["load", "store"]
    assert {"sqlite3", "memory"} <= set(names)


def test_allow_list(third_party: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARA_REALTIME_LOAD_PLUGINS", "")
    plugins = Plugins()
    assert "dictdb" not in plugins.driver_names()
    assert {"sqlite3", "memory"} <= set(plugins.driver_names())  # built-ins always
    with pytest.raises(ConfigError, match="'dictdb' is not allowed by ARA_REALTIME_LOAD_PLUGINS"):
        Realtime({"t": "dictdb,main"}, plugins=plugins).load("t", a="b")
    monkeypatch.setenv("ARA_REALTIME_LOAD_PLUGINS", "dictdb,other")
    assert "dictdb" in Plugins().driver_names()


def test_unknown_driver_error_names_it(plugins: Plugins) -> None:
    rt = Realtime({"peers": "nosuchdriver,db"}, plugins=plugins)
    assert rt.is_mapped("peers")
    with pytest.raises(ConfigError, match="no driver named 'nosuchdriver'"):
        rt.load("peers", name="a")


@pytest.mark.parametrize(
    ("driver", "dist", "folder"),
    [
        ("ldap", "ara-ldap", "plugins/ara_ldap"),
        ("odbc", "ara-odbc", "plugins/ara_odbc"),
        ("pgsql", "ara-pgsql", "plugins/ara_pgsql"),
        ("mysql", "ara-mysql", "plugins/ara_mysql"),
    ],
)
def test_a_project_driver_not_installed_names_its_distribution(
    driver: str, dist: str, folder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugins = Plugins()
    # pgsql and mysql are installed in this workspace: pretend no plugin distribution is
    monkeypatch.setattr(plugins, "_entry_points", lambda group: iter(()))
    rt = Realtime({"peers": f"{driver},db"}, plugins=plugins)
    with pytest.raises(ConfigError) as info:
        rt.load("peers", name="a")
    assert f"provided by the distribution {dist}" in str(info.value)
    assert f"pip install ./core ./{folder}" in str(info.value)


class Counter:
    """A wrapper plugin: counts every operation on every driver, and sees the results."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, object]] = []

    @hookimpl(wrapper=True)
    def ara_load(self, family: str) -> Generator[None, object, object]:
        result = yield
        self.calls.append(("load", family, result))
        return result

    @hookimpl(wrapper=True)
    def ara_store(self, family: str) -> Generator[None, object, object]:
        result = yield
        self.calls.append(("store", family, result))
        return result


def test_wrapper_plugin_sees_every_driver(plugins: Plugins, tmp_path: Path) -> None:
    counter = Counter()
    name = plugins.add_plugin(counter, name="counter")
    memory.create_table("wrap-mem", "peers", ["name"])
    rt = Realtime(
        {"a": "memory,wrap-mem,peers", "b": "sqlite3,wrap-sql,peers"},
        {
            "sqlite3": {
                "wrap-sql": {"dbfile": str(tmp_path / "w.db"), "requirements": "createclose"}
            }
        },
        plugins=plugins,
    )
    rt.require("b", {"name": ("char", 10)})
    rt.store("a", {"name": "x"})
    rt.store("b", {"name": "y"})
    assert rt.load("a", name="x") == {"name": "x"}
    assert rt.load("b", name="y") == {"name": "y"}
    assert counter.calls == [
        ("store", "a", 1),
        ("store", "b", 1),
        ("load", "a", {"name": "x"}),
        ("load", "b", {"name": "y"}),
    ]
    plugins.remove_plugin(name)
    rt.load("a", name="x")
    assert len(counter.calls) == 4
    memory.reset("wrap-mem")


def test_an_interceptor_can_answer_instead_of_the_driver(plugins: Plugins) -> None:
    class Cache:
        @hookimpl(tryfirst=True)
        def ara_load(self, conditions):
            if conditions[0].value == "cached":
                return {"name": "cached", "from": "cache"}
            return None

    plugins.add_plugin(Cache())
    memory.create_table("cache-mem", "peers", ["name"])
    rt = Realtime({"p": "memory,cache-mem,peers"}, plugins=plugins)
    assert rt.load("p", name="cached") == {"name": "cached", "from": "cache"}
    assert rt.load("p", name="other") is None
    memory.reset("cache-mem")


def test_driver_with_a_wrong_argument_is_refused_naming_plugin_and_hook(plugins: Plugins) -> None:
    class Bad:
        @hookimpl
        def ara_connect(self, database: str) -> object:
            return object()

        @hookimpl
        def ara_load(self, connection: object, wrong_argument: str) -> None:
            return None

    with pytest.raises(ConfigError) as info:
        plugins.add_driver("bad", Bad())
    assert "'bad'" in str(info.value) and "ara_load" in str(info.value)
    assert "wrong_argument" in str(info.value)
    assert "bad" not in plugins.driver_names()


def test_driver_with_an_unknown_hook_is_refused(plugins: Plugins) -> None:
    class Typo:
        @hookimpl
        def ara_connect(self) -> object:
            return object()

        @hookimpl
        def ara_laod(self) -> None:
            return None

    with pytest.raises(ConfigError, match="ara_laod"):
        plugins.add_driver("typo", Typo())


def test_driver_without_connect_is_refused(plugins: Plugins) -> None:
    class NoConnect:
        @hookimpl
        def ara_load(self) -> None:
            return None

    with pytest.raises(ConfigError, match="ara_connect"):
        plugins.add_driver("noconnect", NoConnect())


def test_plugins_may_only_wrap(plugins: Plugins) -> None:
    class Thief:
        @hookimpl
        def ara_load(self) -> dict[str, str]:
            return {"stolen": "yes"}

    with pytest.raises(ConfigError, match="must be a wrapper .* or an interceptor"):
        plugins.add_plugin(Thief(), name="thief")


def test_failing_import_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site2"
    (site / "ara_broken").mkdir(parents=True)
    (site / "ara_broken" / "__init__.py").write_text("import does_not_exist_anywhere\n")
    info = site / "ara_broken-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ara-broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ara_realtime.drivers]\nbroken = ara_broken\n")
    monkeypatch.syspath_prepend(str(site))
    plugins = Plugins()
    with pytest.raises(ConfigError, match="failed to import.*does_not_exist_anywhere"):
        plugins.load_driver("broken")
    listed = {i.name: i for i in plugins.describe()}["broken"]
    assert listed.error and "does_not_exist_anywhere" in listed.error


def test_tracing_logs_calls_without_settings(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    plugins = Plugins(trace=True)
    rt = Realtime(
        {"p": "sqlite3,tr,peers"},
        {"sqlite3": {"tr": {"dbfile": str(tmp_path / "t.db"), "requirements": "createclose"}}},
        plugins=plugins,
    )
    with caplog.at_level("DEBUG", logger="ara_realtime.plugins"):
        rt.require("p", {"name": ("char", 10), "secret": ("char", 20)})
        rt.store("p", {"name": "x", "secret": "hunter2"})
        rt.load("p", secret="hunter2")
        rt.update("p", "secret", "hunter2", {"secret": "s3cr3t"})
    text = caplog.text
    assert "ara_load" in text and "ara_require" in text and "ara_store" in text
    assert "secret =" in text  # columns and operators are shown
    assert "dbfile" not in text and "hunter2" not in text and "s3cr3t" not in text


def test_capabilities_default_to_unsupported() -> None:
    caps = Capabilities()
    assert not caps.operations and caps.read_only
    assert Capabilities.full().supports("load_static")
    assert Capabilities.full().without(["store"]).to_dict()["operations"] == [
        "load",
        "load_multi",
        "update",
        "update2",
        "destroy",
        "require",
        "unload",
        "load_static",
    ]


def test_every_hook_is_documented_and_tested() -> None:
    from ara_realtime import hookspecs

    repo = Path(__file__).resolve().parents[2]
    docs = (repo / "docs" / "hooks.md").read_text()
    hooks = [n for n in dir(hookspecs) if n.startswith("ara_")]
    assert len(hooks) == 15
    for hook in hooks:
        assert f"## `{hook}" in docs, f"{hook} has no section in docs/hooks.md"
        assert textwrap.dedent(getattr(hookspecs, hook).__doc__ or "").strip()


def _wrap(name: str) -> Callable[[Recorder], Generator[None, object, object]]:
    """A wrapper of the hook ``name`` that records it ran (a method of :class:`Recorder`)."""

    def hook(self: Recorder) -> Generator[None, object, object]:
        self.seen.append(name)
        return (yield)

    hook.__name__ = name
    return hookimpl(wrapper=True)(hook)


class Recorder:
    """Wraps every operation hook and records which ones ran."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    ara_load = _wrap("ara_load")
    ara_load_multi = _wrap("ara_load_multi")
    ara_update = _wrap("ara_update")
    ara_update2 = _wrap("ara_update2")
    ara_store = _wrap("ara_store")
    ara_destroy = _wrap("ara_destroy")
    ara_require = _wrap("ara_require")
    ara_unload = _wrap("ara_unload")
    ara_load_static = _wrap("ara_load_static")


@pytest.mark.parametrize("driver", ["sqlite3", "memory"])
def test_every_hook_is_reached_through_the_api(driver: str, tmp_path: Path) -> None:
    from ara_realtime import hookspecs

    plugins = Plugins()
    recorder = Recorder()
    plugins.add_plugin(recorder)
    lifecycle: list[str] = []

    class Spy:  # wrappers of the connection hooks
        @hookimpl(wrapper=True)
        def ara_connect(self, database: str):
            lifecycle.append("ara_connect")
            return (yield)

        @hookimpl(wrapper=True)
        def ara_close(self):
            lifecycle.append("ara_close")
            return (yield)

        @hookimpl(wrapper=True)
        def ara_capabilities(self):
            lifecycle.append("ara_capabilities")
            return (yield)

        @hookimpl(wrapper=True)
        def ara_status(self):
            lifecycle.append("ara_status")
            return (yield)

        @hookimpl(wrapper=True)
        def ara_change_feed(self):
            lifecycle.append("ara_change_feed")
            return (yield)

        @hookimpl
        def ara_bind(self, binding):
            lifecycle.append("ara_bind")

    plugins.add_plugin(Spy(), name="spy")
    db = f"hooks-{tmp_path.name}"
    rt = Realtime(
        {"p": f"{driver},{db},peers", "s.conf": f"{driver},{db},cfg"},
        {"sqlite3": {db: {"dbfile": str(tmp_path / "h.db"), "requirements": "createclose"}}},
        plugins=plugins,
    )
    rt.require("p", {"name": ("char", 10), "host": ("char", 10)})
    rt.store("p", {"name": "a"})
    rt.load("p", name="a")
    rt.load_multi("p", name="a")
    rt.update("p", "name", "a", {"host": "h"})
    rt.update2("p", {"name": "a"}, {"host": "i"})
    rt.destroy("p", "name", "a")
    rt.unload("p")
    rt.require(
        "s.conf",
        {
            c: ("char", 20)
            for c in (
                "filename",
                "category",
                "var_name",
                "var_val",
                "cat_metric",
                "var_metric",
                "commented",
            )
        },
    )
    rt.load_config("s.conf")
    (status,) = rt.status()
    assert status.state == "up"
    ((_, _, feed),) = rt.change_feeds("p")
    assert feed is not None and feed.kind in ("notify", "poll")
    rt.close()
    lifecycle_hooks = (
        "ara_connect",
        "ara_close",
        "ara_capabilities",
        "ara_status",
        "ara_change_feed",
        "ara_bind",
    )
    operation_hooks = [
        n for n in dir(hookspecs) if n.startswith("ara_") and n not in lifecycle_hooks
    ]
    assert sorted(set(recorder.seen)) == sorted(operation_hooks)
    assert lifecycle == [
        "ara_connect",
        "ara_capabilities",
        "ara_bind",
        "ara_status",
        "ara_change_feed",
        "ara_close",
    ]
    memory.reset(db)


def test_connection_driver_derives_operations_from_methods(plugins: Plugins) -> None:
    from ara_realtime.driver import ConnectionDriver

    class Shelf:
        rows: ClassVar[list[dict[str, str]]] = []

        def __init__(self, database: str, settings: object, config_dir: object) -> None:
            self.database = database

        def store(self, family: str, table: str, values: tuple[tuple[str, str], ...]) -> int:
            self.rows.append(dict(values))
            return 1

        def load(
            self, family: str, table: str, conditions: tuple[Condition, ...]
        ) -> dict[str, str] | None:
            for row in self.rows:
                if all(row.get(c.column, "") == c.value for c in conditions):
                    return row
            return None

    # a duck-typed connection (no Connection base), which ConnectionDriver takes at run time
    driver = ConnectionDriver(Shelf)  # type: ignore[type-var]
    assert driver.capabilities.operations == {"load", "store"}
    plugins.add_driver("shelf", driver)
    rt = Realtime({"things": "shelf,main"}, plugins=plugins)
    assert rt.store("things", {"name": "x"}) == 1
    assert rt.load("things", name="x") == {"name": "x"}
    with pytest.raises(NotSupported, match="destroy"):
        rt.destroy("things", "name", "x")
    assert {i.name: i for i in plugins.describe()}["shelf"].capabilities == driver.capabilities
    assert rt.capabilities("things") == driver.capabilities


def test_a_connection_method_named_static_is_warned_about() -> None:
    from ara_realtime import Connection
    from ara_realtime.driver import supported_operations

    class Old(Connection):
        def static(self, table: str, filename: str) -> list[tuple[str, str, str, int, int]]:
            return []

    with pytest.warns(DeprecationWarning, match=r"static\(\) is not an operation"):
        ops = supported_operations(Old)
    assert "load_static" not in ops
