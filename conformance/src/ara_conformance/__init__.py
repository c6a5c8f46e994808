"""ara-conformance: the conformance suite every ara-realtime driver must pass.

A pytest plugin, opt-in only (it has no ``pytest11`` entry point)::

    pytest -p ara_conformance --pyargs ara_conformance.suite --ara-driver sqlite3

or, in a driver's own tests, subclass the standard classes and give a target::

    pytest_plugins = ["ara_conformance"]          # top-level conftest.py

    from ara_conformance import Target
    from ara_conformance.suite import ConformanceTests

    class TestMyDriver(ConformanceTests):
        @pytest.fixture(scope="class")
        def ara_target(self):
            yield Target("mydriver", settings={...})

This module is also the plugin: it exposes the pytest hooks and the ``ara_target`` fixture.
"""

from __future__ import annotations

from ._areas import AREA_TITLES, AREAS, STATUSES, Needs, conformance
from ._files import DirectoryTarget
from ._model import Model, like_match, static_config
from ._plugin import ara_target as ara_target
from ._plugin import pytest_addoption as pytest_addoption
from ._plugin import pytest_collection_modifyitems as pytest_collection_modifyitems
from ._plugin import pytest_configure as pytest_configure
from ._plugin import pytest_sessionfinish as pytest_sessionfinish
from ._plugin import pytest_terminal_summary as pytest_terminal_summary
from ._plugin import pytest_unconfigure as pytest_unconfigure
from ._profiles import PROFILES
from ._tables import ASTERISK_COLUMNS, PEERS, STATIC, TableSpec
from ._target import TARGET_GROUP, Session, Target, TargetError

__all__ = [
    "AREAS",
    "AREA_TITLES",
    "ASTERISK_COLUMNS",
    "PEERS",
    "PROFILES",
    "STATIC",
    "STATUSES",
    "TARGET_GROUP",
    "DirectoryTarget",
    "Model",
    "Needs",
    "Session",
    "TableSpec",
    "Target",
    "TargetError",
    "conformance",
    "like_match",
    "static_config",
]
