"""The ``ci`` profile gives the same examples wherever the suite and the driver are installed.

Hypothesis mixes literals found in the source of every *local* module (anything imported from
outside site-packages: an editable install, the author's own driver, a conftest) into what it
generates, so the same derandomized test drew other examples from a wheel than from an
editable checkout, and other examples again once an author's module was imported: two broken
drivers were caught in one setting and passed in the other. The suite pins that pool.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import strategies as st

from ara_conformance import _profiles
from ara_conformance._strategies import text_values


@pytest.fixture
def ci_profile() -> Iterator[None]:
    previous = _profiles.active()
    _profiles.set_active("ci")
    try:
        yield
    finally:
        _profiles.set_active(previous)


def _draw() -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []

    @_profiles.examples(
        st.lists(st.tuples(text_values(40), st.integers(-(10**9), 10**9)), max_size=20), scale=4
    )
    def check(pairs: list[tuple[str, int]]) -> None:
        seen.extend(pairs)

    check()
    return seen


def _local_module(where: Path, name: str) -> None:
    """A module outside site-packages, full of literals (like a driver under development)."""
    lines = [f"WORDS_{i} = {f'word-{i}-' + 'x' * (i % 7)!r}" for i in range(400)]
    lines += [f"NUMBER_{i} = {i * 7919 - 1_000_000}" for i in range(400)]
    (where / f"{name}.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.path.insert(0, str(where))
    try:
        importlib.import_module(name)
    finally:
        sys.path.remove(str(where))


def test_ci_examples_do_not_depend_on_local_modules(ci_profile: None, tmp_path: Path) -> None:
    before = _draw()
    assert before == _draw(), "ci must be derandomized"
    _local_module(tmp_path, "ara_probe_literals")
    try:
        after = _draw()
    finally:
        sys.modules.pop("ara_probe_literals", None)
    assert after == before, "the examples changed once another local module was imported"


def test_the_pool_is_pinned_only_while_the_suite_generates(ci_profile: None) -> None:
    """Outside the suite's own properties, hypothesis behaves as it always does."""
    from hypothesis.internal.conjecture import providers

    original = providers.HypothesisProvider.__dict__.get("_local_constants")
    _draw()
    assert providers.HypothesisProvider.__dict__.get("_local_constants") is original


def test_shrink_profile_bounds_shrinking_and_starts_from_ci_examples() -> None:
    """``--ara-profile shrink`` finds the failure ``ci`` found (same examples first), then
    shrinks it for at most ``--ara-shrink-seconds``; hypothesis's own bound is left as it was."""
    from hypothesis import Phase
    from hypothesis.internal.conjecture import engine

    ci, shrink = _profiles.settings_for("ci"), _profiles.settings_for("shrink")
    assert shrink.derandomize and ci.derandomize
    assert shrink.max_examples == ci.max_examples
    assert Phase.shrink in shrink.phases and Phase.shrink not in ci.phases
    before = engine.MAX_SHRINKING_SECONDS
    previous = _profiles.active()
    try:
        _profiles.set_active("shrink")
        _profiles.set_shrink_seconds(7.5)
        with _profiles.pinned():
            assert engine.MAX_SHRINKING_SECONDS == 8
        _profiles.set_active("ci")
        with _profiles.pinned():
            assert before == engine.MAX_SHRINKING_SECONDS
    finally:
        _profiles.set_active(previous)
        _profiles.set_shrink_seconds(_profiles.SHRINK_SECONDS)
    assert before == engine.MAX_SHRINKING_SECONDS
    with pytest.raises(ValueError, match="positive"):
        _profiles.set_shrink_seconds(0)
