"""The conformance suite on the jsonfile driver, in the subclass style.

``ConformanceTests`` holds every standard test; the fixture below says how to reach the
driver. Known bugs would go in ``known_bugs={"test_name": "reason"}`` (strict xfails), and a
standard test replaced here would need an entry in ``overrides`` -- there are none.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ara_jsonfile.conformance import JsonFileTarget

from ara_conformance.suite import ConformanceTests


class TestJsonFile(ConformanceTests):
    @pytest.fixture(scope="class")
    @classmethod
    def ara_target(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JsonFileTarget]:
        target = JsonFileTarget(tmp_path_factory.mktemp("jsonfile"))
        yield target
        target.close()
