"""Area ``stateful``: random operation sequences, driver against model."""

from __future__ import annotations

from typing import cast

from hypothesis.stateful import run_state_machine_as_test

from .. import _profiles
from .._areas import conformance, register_standard
from .._base import ConformanceBase
from .._machine import ConformanceMachine
from .._target import Target

__all__ = ["StatefulTests"]


@register_standard
class StatefulTests(ConformanceBase):
    """Random operation sequences, driver against model."""

    @conformance("stateful", ops=("store", "load", "load_multi"))
    def test_random_operation_sequences(self, ara_target: Target) -> None:
        """Random stores, loads, updates and destroys agree with the model step by step
        (and with storage, through the back door where there is one)."""
        factory = cast("type[ConformanceMachine]", lambda: ConformanceMachine(ara_target))
        with _profiles.pinned():
            run_state_machine_as_test(factory, settings=_profiles.current(scale=1.0))
