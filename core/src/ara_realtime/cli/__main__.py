"""``python -m ara_realtime.cli``: the ``realtime`` command."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())
