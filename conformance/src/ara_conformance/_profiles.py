"""Hypothesis profiles of the suite: ``ci``, ``dev`` and ``nightly``.

The suite never loads a profile globally (the author's own hypothesis tests keep theirs): it
applies the chosen profile to its own property tests only, through :func:`examples`. Profiles
are also registered with hypothesis as ``ara-conformance-<name>`` for inspection.

``ci``       derandomized (the same examples on every run, no example database needed),
             bounded: the whole suite stays well under two minutes per driver, and a
             failure is reported as found (first bug only, not shrunk) so that even a badly
             broken driver cannot make the run slow; rerun with ``dev`` to shrink it.
``dev``      random, more examples; failing examples are kept in ``.hypothesis/`` and
             replayed first on the next run.
``nightly``  many more examples and longer state-machine runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

__all__ = [
    "DEFAULT_PROFILE",
    "ENV_PROFILE",
    "PROFILES",
    "active",
    "examples",
    "set_active",
    "settings_for",
]

ENV_PROFILE = "ARA_CONFORMANCE_PROFILE"
DEFAULT_PROFILE = "ci"

#: Per profile: settings every property test uses (``max_examples`` is scaled per test).
PROFILES: dict[str, dict[str, Any]] = {
    "ci": {
        "derandomize": True,
        "max_examples": 25,
        "stateful_step_count": 25,
        "phases": (Phase.explicit, Phase.reuse, Phase.generate),
        "report_multiple_bugs": False,
    },
    "dev": {"max_examples": 60, "stateful_step_count": 40},
    "nightly": {"max_examples": 1000, "stateful_step_count": 100},
}

_SUPPRESS = (HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example)
_active = DEFAULT_PROFILE


def settings_for(profile: str, *, scale: float = 1.0) -> settings:
    """The hypothesis settings of ``profile`` with ``max_examples`` scaled by ``scale``."""
    try:
        base = dict(PROFILES[profile])
    except KeyError:
        raise ValueError(
            f"unknown ara-conformance profile {profile!r}; use one of {', '.join(PROFILES)}"
        ) from None
    base["max_examples"] = max(1, round(base["max_examples"] * scale))
    return settings(
        deadline=None,
        suppress_health_check=_SUPPRESS,
        print_blob=True,
        **base,
    )


for _name in PROFILES:
    settings.register_profile(f"ara-conformance-{_name}", settings_for(_name))


def set_active(profile: str) -> None:
    """Choose the profile for this run (the plugin calls it from the option or environment)."""
    settings_for(profile)  # validates the name
    global _active  # noqa: PLW0603
    _active = profile


def active() -> str:
    """The profile in use."""
    return _active


def current(scale: float = 1.0) -> settings:
    """Settings of the active profile."""
    return settings_for(_active, scale=scale)


def examples(
    *strategies: st.SearchStrategy[Any],
    scale: float = 1.0,
    explicit: Sequence[tuple[Any, ...]] = (),
) -> Callable[[Callable[..., None]], Callable[[], None]]:
    """``@given(...)`` with the active profile's settings, for a check defined inside a test.

    Tests define the property as an inner function so that fixtures stay outside hypothesis::

        def test_round_trip(self, ara_target):
            @examples(text_values(40))
            def check(value): ...
            check()

    ``explicit`` examples (argument tuples) run first, on every run and in every profile.
    """

    def wrap(func: Callable[..., None]) -> Callable[[], None]:
        for args in reversed(explicit):
            func = example(*args)(func)
        wrapped: Callable[[], None] = settings(current(scale))(given(*strategies)(func))
        return wrapped

    return wrap


def profile_from_env(default: str = DEFAULT_PROFILE) -> str:
    """The profile named by ``ARA_CONFORMANCE_PROFILE``, else ``default``."""
    return os.environ.get(ENV_PROFILE, "").strip() or default
