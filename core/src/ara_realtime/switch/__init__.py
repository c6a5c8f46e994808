"""The realtime switch (``switch => Realtime/...``): dialplan look-ups against a family.

See ``docs/switch.md``. ``RealtimeSwitch(rt).exists("internal", "5551234")`` answers as
Asterisk's static dialplan would over the rows of context ``internal`` in family
``extensions``: the exact row first, then patterns in dialplan order.
"""

from __future__ import annotations

from ._context import HINT
from ._engine import Application, Hint, Match, RealtimeSwitch
from ._explain import Candidate, Explanation
from ._spec import DEFAULT_FAMILY, SwitchSpec

__all__ = [
    "DEFAULT_FAMILY",
    "HINT",
    "Application",
    "Candidate",
    "Explanation",
    "Hint",
    "Match",
    "RealtimeSwitch",
    "SwitchSpec",
]
