"""Where targets come from (entry points, the built-in ones included) and DirectoryTarget."""

from __future__ import annotations

import ast
import importlib.metadata as md
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from ara_conformance import PEERS, TARGET_GROUP, DirectoryTarget, Target, TargetError
from ara_conformance import _target as target_module
from ara_conformance._builtin import MemoryTarget, SQLite3Target
from ara_conformance._target import make_target
from ara_realtime import BackendError


def test_builtin_targets_are_entry_points_of_ara_conformance() -> None:
    ours = {
        ep.name: ep.value
        for ep in md.entry_points(group=TARGET_GROUP)
        if ep.dist is not None and ep.dist.metadata["Name"] == "ara-conformance"
    }
    assert ours == {
        "sqlite3": "ara_conformance._builtin:SQLite3Target",
        "memory": "ara_conformance._builtin:MemoryTarget",
    }


def test_make_target_finds_every_target_through_its_entry_point(tmp_path: Path) -> None:
    sqlite = make_target("sqlite3", workdir=tmp_path / "s", known_bugs={"test_x": "why"})
    assert type(sqlite) is SQLite3Target and sqlite.known_bugs == {"test_x": "why"}
    assert type(make_target("memory", workdir=tmp_path / "m", database="db")) is MemoryTarget
    plain = make_target("no-such-driver", workdir=tmp_path, settings={"k": "v"})
    assert type(plain) is Target and plain.settings == {"k": "v"}


def test_the_target_module_imports_no_target() -> None:
    """make_target finds the built-in targets by entry point, like any other: _target imports
    neither them nor anything that imports _target (no import cycle, not even a lazy one)."""
    tree = ast.parse(inspect.getsource(target_module))
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
    }
    assert imported <= {"_faults", "_model", "_tables"}, imported
    code = "import sys, ara_conformance.suite; assert 'ara_conformance._builtin' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_two_targets_for_one_driver_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def entry(value: str) -> md.EntryPoint:
        return md.EntryPoint(name="twice", value=value, group=TARGET_GROUP)

    eps = md.EntryPoints([entry("a.conformance:make_target"), entry("b.conformance:make")])
    monkeypatch.setattr("ara_conformance._target.md.entry_points", lambda group: eps)
    with pytest.raises(TargetError, match=r"2 ara_conformance.targets entries are named 'twice'"):
        make_target("twice", workdir=tmp_path)


class _Files(DirectoryTarget):
    """A DirectoryTarget of the sqlite3 driver that only says where its file goes."""

    def __init__(self, workdir: Path | None = None, **options: object) -> None:
        super().__init__("sqlite3", workdir, **options)  # type: ignore[arg-type]

    def role_settings(self, directory: Path) -> dict[str, str]:
        return {"dbfile": str(directory / "files.db")}


def test_directory_target_gives_each_role_its_directory(tmp_path: Path) -> None:
    target = _Files(tmp_path)
    assert target.settings == {"dbfile": str(tmp_path / "main" / "files.db")}
    name, settings = target.database_settings("secondary")
    assert name == "ara_conformance_secondary"
    assert settings == {"dbfile": str(tmp_path / "secondary" / "files.db")}
    assert target.settings_of(name) == settings and (tmp_path / "secondary").is_dir()
    with pytest.raises(KeyError):
        target.settings_of("elsewhere")


def test_directory_target_outage_is_real_and_restored(tmp_path: Path) -> None:
    target = _Files(tmp_path)
    with target.open({"peers": PEERS}, roles=("primary",), faults=True) as s:
        assert s.injector is None, "a real outage needs no fault injection"
        s.rt.store("peers", {"name": "a"})
        with s.outage("primary"):
            assert not (tmp_path / "primary").exists()
            with pytest.raises(BackendError):
                s.rt.load("peers", name="a")
        assert (tmp_path / "primary" / "files.db").is_file()


def test_directory_target_never_moves_storage_it_did_not_create(tmp_path: Path) -> None:
    elsewhere = tmp_path / "mine.db"
    target = _Files(tmp_path / "work", settings={"dbfile": str(elsewhere)})
    assert not target.owns("main") and target.owns("primary")
    with target.open({"peers": PEERS}) as s, pytest.raises(TargetError, match="will not move"):
        s.outage("main").__enter__()
    assert elsewhere.is_file()


def test_directory_target_removes_only_the_directory_it_made(tmp_path: Path) -> None:
    given = _Files(tmp_path)
    given.close()
    assert tmp_path.is_dir()
    made = _Files()
    assert made.workdir.name.startswith("ara-sqlite3-")
    made.close()
    assert not made.workdir.exists()


class _PlainNames(MemoryTarget):
    """A target using the names an author reaches for first (an outside author's
    ``_settings`` broke every test with a TypeError)."""

    def __init__(self) -> None:
        super().__init__()
        self._settings = {"anything": "x"}
        self._lock = object()
        self._plugins = self._caps = self._prefix = self._counter = "mine"

    def _own(self) -> str:
        return "mine"


def test_a_subclass_may_use_any_name_but_the_reserved_prefix() -> None:
    target = _PlainNames()
    with target.open({"peers": PEERS}) as session:
        assert session.rt.store("peers", {"name": "a"}) == 1
        assert session.stored("peers") == [{"name": "a"}]
    with pytest.raises(TypeError, match=r"_ara_settings: names starting with _ara_"):
        type("Clash", (Target,), {"_ara_settings": lambda self: None})


def test_the_subclassing_surface_is_documented() -> None:
    """Every public method and attribute of Target and DirectoryTarget has a docstring and is
    named, with its signature, in docs/conformance.md."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "conformance.md").read_text()
    for cls in (Target, DirectoryTarget):
        for name in vars(cls):
            if name.startswith("_"):
                continue
            assert inspect.getdoc(getattr(cls, name)), f"{cls.__name__}.{name} has no docstring"
            assert f"`{name}" in docs, f"{cls.__name__}.{name} is not in docs/conformance.md"
