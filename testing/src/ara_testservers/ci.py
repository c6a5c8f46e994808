"""What a test does when this machine cannot run it: in CI (``CI=true``) a failure, since CI
must run every test; elsewhere a skip that says why."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["in_ci", "unavailable"]


def in_ci() -> bool:
    """Whether this is a CI run (``CI=true``, as ``.ci/run`` sets it)."""
    return os.environ.get("CI") == "true"


def unavailable(what: str, reason: str) -> NoReturn:
    """``what`` cannot run here because of ``reason``: fail in CI, skip elsewhere."""
    if in_ci():
        pytest.fail(f"CI must run {what}: {reason}", pytrace=False)
    pytest.skip(f"{what} cannot run here: {reason}")
