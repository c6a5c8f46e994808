"""The standard tests: one class per capability area, and every area together.

Two ways to run them:

* by name: ``pytest -p ara_conformance --pyargs ara_conformance.suite --ara-driver NAME``
  (or ``from ara_conformance.suite import *`` in a test module): the ``Test*`` classes below
  use the plugin's ``ara_target`` fixture;
* by subclassing: ``class TestMyDriver(ConformanceTests)`` (or any of the ``*Tests`` area
  classes) with an ``ara_target`` fixture that yields an :class:`ara_conformance.Target`.

The tests themselves live in :mod:`ara_conformance.standard`, one module per area; this module
is the one pytest collects, so node IDs read ``.../suite.py::TestLike::test_like_escapes[...]``
however the areas are laid out. Every test carries ``@conformance(area, ops=..., when=...)``:
what it needs from the driver. Tests whose needs are not declared are reported as
*unsupported*, never as passed. Each test's docstring says what it checks and what usually
breaks it.
"""

from __future__ import annotations

from .standard.capabilities import CapabilityTests
from .standard.codec import CodecTests
from .standard.concurrency import ConcurrencyTests
from .standard.conditions import ConditionsTests
from .standard.errors import ErrorsTests
from .standard.failover import FailoverTests
from .standard.like import LikeTests
from .standard.ordering import OrderingTests
from .standard.require import RequireTests
from .standard.stateful import StatefulTests
from .standard.static import StaticTests
from .standard.values import ValuesTests
from .standard.writes import WritesTests

__all__ = [
    "TestCapabilities",
    "TestCodec",
    "TestConcurrency",
    "TestConditions",
    "TestErrors",
    "TestFailover",
    "TestLike",
    "TestOrdering",
    "TestRequire",
    "TestStateful",
    "TestStatic",
    "TestValues",
    "TestWrites",
]


class ConformanceTests(
    ValuesTests,
    ConditionsTests,
    LikeTests,
    OrderingTests,
    WritesTests,
    ErrorsTests,
    RequireTests,
    StaticTests,
    CodecTests,
    FailoverTests,
    ConcurrencyTests,
    CapabilityTests,
    StatefulTests,
):
    """Every standard test: subclass it and give an ``ara_target`` fixture."""


# -- collected by name (``--pyargs ara_conformance.suite`` or a star import) ---------------


class TestValues(ValuesTests):
    pass


class TestConditions(ConditionsTests):
    pass


class TestLike(LikeTests):
    pass


class TestOrdering(OrderingTests):
    pass


class TestWrites(WritesTests):
    pass


class TestErrors(ErrorsTests):
    pass


class TestRequire(RequireTests):
    pass


class TestStatic(StaticTests):
    pass


class TestCodec(CodecTests):
    pass


class TestFailover(FailoverTests):
    pass


class TestConcurrency(ConcurrencyTests):
    pass


class TestCapabilities(CapabilityTests):
    pass


class TestStateful(StatefulTests):
    pass
