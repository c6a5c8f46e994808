"""Built-in drivers, registered through the ``ara_realtime.drivers`` entry points like any other."""

from __future__ import annotations
