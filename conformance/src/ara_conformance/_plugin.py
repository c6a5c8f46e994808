"""The pytest plugin: options, where the target comes from, the override guard, the summary.

Loaded only on request (``pytest -p ara_conformance`` or ``pytest_plugins``); outside runs
that collect the suite's tests it does nothing visible.

Target selection, highest precedence first (each key separately):

1. command line: ``--ara-driver``, ``--ara-database``, ``--ara-setting KEY=VALUE`` (repeat),
   ``--ara-known-bug TEST=REASON`` (repeat), ``--ara-profile``, ``--ara-report``,
   ``--ara-report-dir``;
2. environment: ``ARA_CONFORMANCE_DRIVER``, ``ARA_CONFORMANCE_DATABASE``,
   ``ARA_CONFORMANCE_SETTINGS`` (a JSON object), ``ARA_CONFORMANCE_KNOWN_BUGS`` (a JSON object),
   ``ARA_CONFORMANCE_PROFILE``, ``ARA_CONFORMANCE_REPORT``, ``ARA_CONFORMANCE_REPORT_DIR``;
3. ``[tool.ara-conformance]`` in the rootdir's ``pyproject.toml``: ``driver``, ``database``,
   ``settings`` (a table), ``known_bugs`` (a table), ``profile``, ``report``, ``report_dir``.

Settings of a lower source are used only if it names the same driver (or none).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import _profiles
from ._areas import STANDARD, STANDARD_CLASSES
from ._base import ConformanceBase
from ._state import STATE_KEY, State
from ._target import Target, make_target

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = [
    "ConformanceConfig",
    "ara_target",
    "load_settings",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_unconfigure",
]

ENV_PREFIX = "ARA_CONFORMANCE_"
NOT_CONFIGURED_REASON = (
    "ara-conformance is not configured: give --ara-driver NAME (and --ara-setting KEY=VALUE), "
    "set ARA_CONFORMANCE_DRIVER, or add [tool.ara-conformance] driver = ... to pyproject.toml; "
    "or subclass the suite's classes with an ara_target fixture"
)


@dataclass
class ConformanceConfig:
    """The resolved configuration of one run."""

    driver: str | None = None
    database: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    known_bugs: dict[str, str] = field(default_factory=dict)
    profile: str = _profiles.DEFAULT_PROFILE
    report: str | None = None
    #: A directory receiving one report per target (``<target>.json``).
    report_dir: str | None = None
    #: Where each value came from (``cli``, ``env``, ``pyproject``), for the report.
    sources: dict[str, str] = field(default_factory=dict)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ara-conformance", "ara-realtime driver conformance suite")
    group.addoption("--ara-driver", help="driver (entry-point name) to run the suite against")
    group.addoption("--ara-database", help="database (section) name for the driver")
    group.addoption(
        "--ara-setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a connection setting for the driver (repeatable)",
    )
    group.addoption(
        "--ara-known-bug",
        action="append",
        default=[],
        metavar="TEST=REASON",
        help="a known bug: that standard test becomes a strict xfail (repeatable)",
    )
    group.addoption(
        "--ara-profile",
        choices=sorted(_profiles.PROFILES),
        help="hypothesis profile: ci (default; derandomized), dev, nightly, shrink",
    )
    group.addoption(
        "--ara-shrink-seconds",
        type=float,
        metavar="SECONDS",
        help="under --ara-profile shrink, stop shrinking a failure after this long "
        f"(default {_profiles.SHRINK_SECONDS:g}; also ARA_CONFORMANCE_SHRINK_SECONDS)",
    )
    group.addoption("--ara-report", metavar="PATH", help="write the JSON conformance report here")
    group.addoption(
        "--ara-report-dir",
        metavar="DIR",
        help="write one JSON report per target into DIR (<target>.json), e.g. for the matrix",
    )


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise pytest.UsageError(f"--ara-{what} expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value
    return out


def _json_object(name: str, text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise pytest.UsageError(f"{name} must be a JSON object: {exc}") from None
    if not isinstance(data, dict):
        raise pytest.UsageError(f"{name} must be a JSON object, got {type(data).__name__}")
    return {str(k): str(v) for k, v in data.items()}


def _pyproject(rootpath: Path) -> dict[str, Any]:
    path = rootpath / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise pytest.UsageError(f"{path}: {exc}") from None
    table = data.get("tool", {}).get("ara-conformance", {})
    if not isinstance(table, dict):
        raise pytest.UsageError(f"{path}: [tool.ara-conformance] must be a table")
    known = {"driver", "database", "settings", "known_bugs", "profile", "report", "report_dir"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise pytest.UsageError(
            f"{path}: unknown key(s) in [tool.ara-conformance]: {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    return table


def load_settings(
    options: Mapping[str, Any], environ: Mapping[str, str], pyproject: Mapping[str, Any]
) -> ConformanceConfig:
    """Resolve the configuration from the three sources (see the module docstring)."""
    layers: list[tuple[str, dict[str, Any]]] = []
    py: dict[str, Any] = {}
    for key in ("driver", "database", "profile", "report", "report_dir"):
        if key in pyproject:
            py[key] = str(pyproject[key])
    for key in ("settings", "known_bugs"):
        if key in pyproject:
            if not isinstance(pyproject[key], dict):
                raise pytest.UsageError(f"[tool.ara-conformance] {key} must be a table")
            py[key] = {str(k): str(v) for k, v in pyproject[key].items()}
    layers.append(("pyproject", py))
    env: dict[str, Any] = {}
    for key in ("driver", "database", "profile", "report", "report_dir"):
        value = environ.get(ENV_PREFIX + key.upper(), "").strip()
        if value:
            env[key] = value
    if environ.get(ENV_PREFIX + "SETTINGS"):
        env["settings"] = _json_object(ENV_PREFIX + "SETTINGS", environ[ENV_PREFIX + "SETTINGS"])
    if environ.get(ENV_PREFIX + "KNOWN_BUGS"):
        env["known_bugs"] = _json_object(
            ENV_PREFIX + "KNOWN_BUGS", environ[ENV_PREFIX + "KNOWN_BUGS"]
        )
    layers.append(("env", env))
    cli: dict[str, Any] = {}
    for key in ("driver", "database", "profile", "report", "report_dir"):
        if options.get(key):
            cli[key] = str(options[key])
    if options.get("settings"):
        cli["settings"] = _pairs(list(options["settings"]), "setting")
    if options.get("known_bugs"):
        cli["known_bugs"] = _pairs(list(options["known_bugs"]), "known-bug")
    layers.append(("cli", cli))

    cfg = ConformanceConfig()
    for source, layer in layers:
        for key in ("driver", "database", "profile", "report", "report_dir"):
            if key in layer:
                setattr(cfg, key, layer[key])
                cfg.sources[key] = source
    for source, layer in layers:
        if "driver" in layer and layer["driver"] != cfg.driver:
            continue  # settings for another driver
        if "settings" in layer:
            cfg.settings.update(layer["settings"])
            cfg.sources["settings"] = source
        if "known_bugs" in layer:
            cfg.known_bugs.update(layer["known_bugs"])
    if cfg.profile not in _profiles.PROFILES:
        raise pytest.UsageError(
            f"unknown ara-conformance profile {cfg.profile!r} (from {cfg.sources.get('profile')}); "
            f"use one of {', '.join(_profiles.PROFILES)}"
        )
    return cfg


_CONFIG_KEY = pytest.StashKey[ConformanceConfig]()
_PREVIOUS_PROFILE = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    importlib.import_module("ara_conformance.suite")  # fills the registry of standard tests
    options = {
        "driver": config.getoption("ara_driver"),
        "database": config.getoption("ara_database"),
        "settings": config.getoption("ara_setting"),
        "known_bugs": config.getoption("ara_known_bug"),
        "profile": config.getoption("ara_profile"),
        "report": config.getoption("ara_report"),
        "report_dir": config.getoption("ara_report_dir"),
    }
    cfg = load_settings(options, os.environ, _pyproject(config.rootpath))
    config.stash[_PREVIOUS_PROFILE] = _profiles.active()
    _profiles.set_active(cfg.profile)
    _profiles.set_shrink_seconds(_shrink_seconds(config))
    config.stash[_CONFIG_KEY] = cfg
    state = State(profile=cfg.profile, configured_driver=cfg.driver)
    config.stash[STATE_KEY] = state
    config.pluginmanager.register(_Recorder(state), "ara-conformance-recorder")


def _shrink_seconds(config: pytest.Config) -> float:
    given = config.getoption("ara_shrink_seconds")
    source = "--ara-shrink-seconds"
    if given is None:
        text = os.environ.get(ENV_PREFIX + "SHRINK_SECONDS", "").strip()
        source = ENV_PREFIX + "SHRINK_SECONDS"
        try:
            given = float(text) if text else _profiles.SHRINK_SECONDS
        except ValueError:
            raise pytest.UsageError(f"{source} must be a number of seconds, got {text!r}") from None
    if not given > 0:
        raise pytest.UsageError(f"{source} must be positive, got {given!r}")
    return float(given)


def pytest_unconfigure(config: pytest.Config) -> None:
    previous = config.stash.get(_PREVIOUS_PROFILE, None)
    if previous is not None:  # a nested run (pytester) must not change the outer profile
        _profiles.set_active(previous)


@pytest.fixture(scope="session")
def ara_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    """The target named by ``--ara-driver`` (or the environment, or pyproject.toml)."""
    cfg = request.config.stash[_CONFIG_KEY]
    if not cfg.driver:
        request.config.stash[STATE_KEY].unconfigured = True
        pytest.skip(NOT_CONFIGURED_REASON)
    target = make_target(
        cfg.driver,
        database=cfg.database,
        settings=cfg.settings,
        workdir=tmp_path_factory.mktemp("ara-conformance"),
        known_bugs=cfg.known_bugs,
    )
    try:
        yield target
    finally:
        target.close()


def _standard_bases(cls: type) -> list[type]:
    return [b for b in cls.__mro__ if b in STANDARD_CLASSES]


def _guard(cls: type, state: State) -> dict[str, str]:
    """Check one collected suite class; return ``{test name: reason}`` of allowed overrides."""
    allowed: dict[str, str] = {}
    overrides = dict(getattr(cls, "overrides", {}) or {})
    bad: list[str] = []
    for base in _standard_bases(cls):
        for name, standard in STANDARD.items():
            if standard.owner is not base:
                continue
            current = getattr(cls, name, None)
            if current is standard.function:
                continue
            reason = str(overrides.get(name, "")).strip()
            if reason:
                allowed[name] = reason
                continue
            how = "deleted" if current is None else "overridden"
            bad.append(name)
            state.problems.append(
                f"{cls.__module__}.{cls.__qualname__}.{name}: standard test {how} without a "
                f"recorded reason (list it in {cls.__name__}.overrides with the reason)"
            )
    for name in sorted(set(overrides) - set(allowed) - set(bad)):
        if name not in STANDARD:
            state.problems.append(
                f"{cls.__module__}.{cls.__qualname__}.overrides names {name!r}, "
                "which is not a standard test"
            )
    if bad:
        state.guarded[f"{cls.__module__}.{cls.__qualname__}"] = bad
    return allowed


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    state = config.stash[STATE_KEY]
    checked: dict[type, dict[str, str]] = {}
    for item in items:
        cls = getattr(item, "cls", None)
        if cls is None or not issubclass(cls, ConformanceBase):
            continue
        if cls not in checked:
            checked[cls] = _guard(cls, state)
        name = getattr(item, "originalname", item.name)
        standard = STANDARD.get(name)
        if standard is None:
            continue
        state.items[item.nodeid] = (name, standard.needs.area, cls.__qualname__)
        reason = checked[cls].get(name)
        if reason is not None:
            state.overridden[item.nodeid] = reason
    for problem in _stale_known_bugs(config):
        state.problems.append(problem)
    if not config.stash[_CONFIG_KEY].driver:
        # One reason, as a marker: pytest folds marker skips of one file into one line.
        marker = pytest.mark.skip(reason=NOT_CONFIGURED_REASON)
        for item in items:
            if item.nodeid in state.items and _uses_plugin_target(item):
                item.add_marker(marker)
                state.unconfigured = True


def _uses_plugin_target(item: pytest.Item) -> bool:
    """True if ``ara_target`` comes from this plugin (not from a class or conftest)."""
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.get("ara_target") if info is not None else None
    if not defs:
        return False
    func = getattr(defs[-1], "func", None)
    return getattr(func, "__module__", None) == __name__


def _stale_known_bugs(config: pytest.Config) -> list[str]:
    cfg = config.stash[_CONFIG_KEY]
    out = []
    for key in cfg.known_bugs:
        if key.split("[", 1)[0] not in STANDARD:
            out.append(f"known bug {key!r} names no standard test (renamed or removed?)")
    return out


class _Recorder:
    """Per-run hook object (registered in ``pytest_configure``): folds reports into the state.

    An object per run, not module state, so nested runs (``pytester``) stay separate.
    """

    def __init__(self, state: State) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.state.record(report)


def _check_targets(state: State) -> None:
    for name, target in state.targets.items():
        if target.get("capabilities_error"):
            state.problems.append(f"target {name!r}: {target['capabilities_error']}")
        for key in target.get("known_bugs", {}):
            if key.split("[", 1)[0] not in STANDARD:
                problem = f"known bug {key!r} names no standard test (renamed or removed?)"
                if problem not in state.problems:
                    state.problems.append(problem)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(STATE_KEY, None)
    if state is None or not state.items:
        return
    _check_targets(state)
    cfg = session.config.stash[_CONFIG_KEY]
    if cfg.report:
        state.write(Path(cfg.report))
    if cfg.report_dir:
        state.write_each(Path(cfg.report_dir))
    if state.problems and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    if state is None or not state.items:
        return
    terminalreporter.section("ara-conformance summary")
    for line in state.lines():
        terminalreporter.write_line(line)
    cfg = config.stash[_CONFIG_KEY]
    if cfg.report:
        terminalreporter.write_line(f"report written to {cfg.report}")
    if cfg.report_dir:
        terminalreporter.write_line(f"one report per target written to {cfg.report_dir}")
