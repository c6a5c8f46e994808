"""The base class of every suite class: the capability gate and the fresh-mapping fixture."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

import pytest

from ._areas import STANDARD
from ._state import STATE_KEY, State
from ._tables import PEERS
from ._target import Session, Target

__all__ = ["ConformanceBase", "state_of"]

_NO_PLUGIN = (
    "the ara_conformance pytest plugin is not active: run pytest with -p ara_conformance, "
    "or put pytest_plugins = ['ara_conformance'] in your top-level conftest.py"
)


def state_of(config: pytest.Config) -> State:
    """The plugin's state for this run (fails clearly if the plugin is not loaded)."""
    state = config.stash.get(STATE_KEY, None)
    if state is None:
        pytest.fail(_NO_PLUGIN, pytrace=False)
    return state


class ConformanceBase:
    """Common base of the suite's classes.

    Subclasses provide an ``ara_target`` fixture yielding a :class:`~ara_conformance.Target`
    (the plugin's own fixture builds one from ``--ara-driver``). A standard test that the
    subclass replaces must be listed in :attr:`overrides` with the reason, or the run fails.
    """

    #: ``{standard test name: reason}`` for each standard test this class overrides or
    #: deletes (``test_x = None``). Anything else replaced is reported as a problem.
    overrides: ClassVar[Mapping[str, str]] = {}

    @pytest.fixture(autouse=True)
    def _ara_gate(self, request: pytest.FixtureRequest, ara_target: Target) -> None:
        gate(request, ara_target)

    @pytest.fixture
    def ara(self, ara_target: Target) -> Iterator[Session]:
        """A fresh, empty mapping: family ``peers`` -> a new table with the suite's columns."""
        with ara_target.open({"peers": PEERS}) as session:
            yield session


def gate(request: pytest.FixtureRequest, target: Target) -> None:
    """Bind the test to the target; apply known bugs; skip what the driver does not declare."""
    state = state_of(request.config)
    node = request.node
    name = getattr(node, "originalname", node.name)
    standard = STANDARD.get(name)
    if standard is None:
        return  # the author's own test in a suite subclass: not part of the report
    if not isinstance(target, Target):
        pytest.fail(
            f"the ara_target fixture must yield an ara_conformance.Target, "
            f"got {type(target).__name__}",
            pytrace=False,
        )
    if target.name not in state.targets:
        state.targets[target.name] = target.describe()
    state.bound[node.nodeid] = target.name
    node.user_properties.append(("ara_target", target.name))
    node.user_properties.append(("ara_area", standard.needs.area))
    reason = target.known_bugs.get(node.name) or target.known_bugs.get(name)
    if reason:
        node.add_marker(pytest.mark.xfail(reason=f"known bug: {reason}", strict=True))
    missing = standard.needs.missing(target.capabilities)
    if missing is not None:
        state.marks[node.nodeid] = ("unsupported", missing)
        node.user_properties.append(("ara_status", "unsupported"))
        pytest.skip(f"unsupported: {missing}")
    need = standard.needs.backdoor
    have = target.backdoor
    if need is not None and (have is None or (need == "write" and have != "write")):
        why = f"the target has no back door to {need} storage (override Target.{need}_raw)"
        state.marks[node.nodeid] = ("not_run", why)
        node.user_properties.append(("ara_status", "not_run"))
        pytest.skip(f"not run: {why}")
