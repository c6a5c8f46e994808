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
``shrink``   the fast path from a ``ci`` failure to a minimal example: the same derandomized
             examples as ``ci`` (so the same failure is found first, as fast), then shrunk
             for at most ``SHRINK_SECONDS`` (``--ara-shrink-seconds``); run it on the one
             failing test (``-k test_name``).

Wherever the suite and the driver are installed (a wheel, an editable checkout, an author's
project with its own modules), a profile gives the same examples: hypothesis normally mixes
literals from the source of every module imported from outside site-packages into what it
generates, which made examples (and so verdicts on broken drivers) depend on the install.
While the suite's own properties run (:func:`pinned`), that pool is empty.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

try:  # hypothesis's generation internals the suite pins (see pinned())
    from hypothesis.internal.conjecture import engine as _engine
    from hypothesis.internal.conjecture import providers as _providers
except ImportError:  # pragma: no cover - a hypothesis laid out otherwise
    _engine = _providers = None  # type: ignore[assignment]

__all__ = [
    "DEFAULT_PROFILE",
    "ENV_PROFILE",
    "PROFILES",
    "active",
    "examples",
    "pinned",
    "set_active",
    "set_shrink_seconds",
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
    "shrink": {
        "derandomize": True,
        "max_examples": 25,
        "stateful_step_count": 25,
        "phases": (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
        "report_multiple_bugs": False,
    },
}

#: The longest a failure is shrunk under the ``shrink`` profile (seconds); hypothesis's own
#: bound (five minutes) applies to the other profiles.
SHRINK_SECONDS = 60.0

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


_shrink_seconds = SHRINK_SECONDS


def set_shrink_seconds(seconds: float) -> None:
    """Bound shrinking under the ``shrink`` profile (the plugin's ``--ara-shrink-seconds``)."""
    if not seconds > 0:
        raise ValueError(f"the shrink time bound must be positive, got {seconds!r}")
    global _shrink_seconds  # noqa: PLW0603
    _shrink_seconds = float(seconds)


@contextlib.contextmanager
def pinned() -> Iterator[None]:
    """Generate independently of where things are installed, for the ``with`` block.

    Hypothesis draws some strings and integers from the literals of every *local* module
    (imported from outside site-packages), so which modules are local changed the examples.
    Inside the block that pool is empty: examples depend only on the suite's version, the
    profile and hypothesis's version. Under the ``shrink`` profile it also bounds shrinking by
    ``--ara-shrink-seconds``. Both are attributes hypothesis documents as patchable or keeps
    stable (its provider's pool, the engine's ``MAX_SHRINKING_SECONDS``); a hypothesis without
    them generates without local literals or bounds shrinking itself, and nothing is changed.
    """
    with contextlib.ExitStack() as stack:
        stack.enter_context(_no_local_literals())
        if _active == "shrink":
            stack.enter_context(_shrink_bound(_shrink_seconds))
        yield


@contextlib.contextmanager
def _no_local_literals() -> Iterator[None]:
    cls = getattr(_providers, "HypothesisProvider", None)
    empty = getattr(_providers, "Constants", None)
    cache = getattr(_providers, "CONSTANTS_CACHE", None)
    if cls is None or empty is None or "_local_constants" not in vars(cls):
        yield  # pragma: no cover - a hypothesis that draws no local literals
        return
    original = vars(cls)["_local_constants"]
    pool = empty()

    def clear() -> None:  # cached (global, local) pools, keyed by draw constraints
        if cache is not None:
            cache.cache.clear()

    clear()
    cls._local_constants = property(lambda self: pool)
    try:
        yield
    finally:
        cls._local_constants = original
        clear()


@contextlib.contextmanager
def _shrink_bound(seconds: float) -> Iterator[None]:
    if not hasattr(_engine, "MAX_SHRINKING_SECONDS"):  # pragma: no cover
        yield
        return
    previous = _engine.MAX_SHRINKING_SECONDS
    _engine.MAX_SHRINKING_SECONDS = max(1, math.ceil(seconds))
    try:
        yield
    finally:
        _engine.MAX_SHRINKING_SECONDS = previous


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
        test: Callable[[], None] = settings(current(scale))(given(*strategies)(func))

        @functools.wraps(test)
        def run() -> None:
            with pinned():
                test()

        return run

    return wrap


def profile_from_env(default: str = DEFAULT_PROFILE) -> str:
    """The profile named by ``ARA_CONFORMANCE_PROFILE``, else ``default``."""
    return os.environ.get(ENV_PROFILE, "").strip() or default
