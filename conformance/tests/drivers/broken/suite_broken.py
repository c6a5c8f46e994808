"""The suite on every broken driver (run by test_conformance_broken.py, in a subprocess).

One class per broken driver, built from the standard area classes it needs: the subclass
style, as a driver author would write it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ara_conformance import Target, suite
from broken import BROKEN, Case


def _suite_class(case: Case) -> type:
    bases = tuple(getattr(suite, name) for name in case.classes)

    # written in a class body, where a fixture over a classmethod is what a driver author writes;
    # the suite class below takes it from there
    class Fixtures:
        @pytest.fixture(scope="class")
        @classmethod
        def ara_target(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
            target = case.make(tmp_path_factory.mktemp(case.name))
            yield target
            target.close()

    name = "TestBroken_" + case.name.replace("-", "_")
    attrs: dict[str, Any] = {"ara_target": vars(Fixtures)["ara_target"], "__module__": __name__}
    return type(name, bases, attrs)


for _case in BROKEN:
    _cls = _suite_class(_case)
    globals()[_cls.__name__] = _cls
