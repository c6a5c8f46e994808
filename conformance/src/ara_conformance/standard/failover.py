"""Area ``failover``: backend failures, ``BackendError``, priorities, recovery."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from ara_realtime import BackendError, QueryError
from ara_realtime.datatypes import RQ, Requirement

from .._areas import conformance, register_standard
from .._base import ConformanceBase
from .._tables import PEERS
from .._target import Session, Target
from ._common import FAM, row_names

__all__ = ["FailoverTests"]


def _pair(target: Target, **kwargs: Any) -> Session:
    """Family ``peers`` on two backends (priority 1 and 2), with an outage available."""
    return target.open({FAM: PEERS}, roles=("primary", "secondary"), faults=True, **kwargs)


def _seed(s: Session) -> None:
    assert s.direct("primary").store(FAM, {"name": "p", "host": "one"}) == 1
    assert s.direct("secondary").store(FAM, {"name": "s", "host": "two"}) == 1


def _rest(target: Target) -> None:
    time.sleep(target.backoff * 3 + 0.02)


@register_standard
class FailoverTests(ConformanceBase):
    """Backend failures: ``BackendError``, priorities, recovery."""

    @conformance("failover", ops=("store", "load"))
    def test_backend_down_is_a_backend_error(self, ara_target: Target) -> None:
        """With the storage down, every operation raises ``BackendError`` (not None/[]/0).

        Usually broken by: catching the driver's errors and returning "not found".
        """
        with ara_target.open({FAM: PEERS}, roles=("primary",), faults=True) as s:
            rt = s.rt
            rt.store(FAM, {"name": "a", "host": "h"})
            ops = ara_target.capabilities.operations
            calls: list[tuple[str, Callable[[], object]]] = [
                ("load", lambda: rt.load(FAM, name="a")),
                ("load_multi", lambda: rt.load_multi(FAM, ("name LIKE", "%"))),
                ("update", lambda: rt.update(FAM, "name", "a", {"host": "x"})),
                ("update2", lambda: rt.update2(FAM, {"name": "a"}, {"host": "x"})),
                ("store", lambda: rt.store(FAM, {"name": "b"})),
                ("destroy", lambda: rt.destroy(FAM, "name", "a")),
            ]
            with s.outage("primary"):
                for op, call in calls:
                    if op not in ops:
                        continue
                    try:
                        result = call()
                    except BackendError:
                        continue
                    raise AssertionError(
                        f"{op} with the backend down returned {result!r}; it must raise "
                        "BackendError (a driver must never turn a failure into not-found)"
                    )
            _rest(ara_target)
            assert rt.load(FAM, name="a") == {"name": "a", "host": "h"}, "data lost after outage"

    @conformance("failover", ops=("store", "load", "load_multi"))
    def test_secondary_serves_while_the_primary_is_down(self, ara_target: Target) -> None:
        """With the priority-1 backend down, priority 2 answers reads and takes writes."""
        with _pair(ara_target) as s:
            _seed(s)
            assert s.rt.load(FAM, name="p") == {"name": "p", "host": "one"}
            with s.outage("primary"):
                assert s.rt.load(FAM, name="s") == {"name": "s", "host": "two"}
                assert s.rt.load(FAM, name="p") is None
                assert row_names(s.rt.load_multi(FAM, ("name LIKE", "%"))) == ["s"]
                assert s.rt.store(FAM, {"name": "during"}) == 1
            assert s.direct("secondary").load(FAM, name="during") == {"name": "during"}

    @conformance("failover", ops=("store", "load", "load_multi", "update", "update2", "destroy"))
    def test_not_found_on_a_healthy_primary_never_reaches_the_secondary(
        self, ara_target: Target
    ) -> None:
        """Not found on priority 1 is the answer: priority 2 is not asked (Asterisk #1305).

        Usually broken by: raising ``BackendError`` (or any exception) for "no rows".
        """
        with _pair(ara_target) as s:
            _seed(s)
            rt = s.rt
            assert rt.load(FAM, name="s") is None, "the secondary answered a not-found"
            assert rt.load_multi(FAM, name="s") == []
            assert rt.update(FAM, "name", "s", {"host": "x"}) == 0
            assert rt.update2(FAM, {"name": "s"}, {"host": "x"}) == 0
            assert rt.destroy(FAM, "name", "s") == 0
            assert s.direct("secondary").load(FAM, name="s") == {"name": "s", "host": "two"}

    @conformance("failover", ops=("store", "load"))
    def test_primary_is_used_again_after_it_comes_back(self, ara_target: Target) -> None:
        """After the back-off period the recovered priority-1 backend serves again."""
        with _pair(ara_target) as s:
            _seed(s)
            with s.outage("primary"):
                assert s.rt.load(FAM, name="s") == {"name": "s", "host": "two"}
            _rest(ara_target)
            assert s.rt.load(FAM, name="p") == {"name": "p", "host": "one"}
            assert s.rt.load(FAM, name="s") is None

    @conformance("failover", ops=("store", "load"))
    def test_caller_mistake_never_fails_over(self, ara_target: Target) -> None:
        """A ``QueryError`` on priority 1 is raised, not retried on priority 2."""
        extra = {"secondary": {"extra": Requirement(RQ.CHAR, 10)}}
        with _pair(ara_target, extra_columns=extra) as s:
            assert s.direct("secondary").store(FAM, {"name": "s", "extra": "x"}) == 1
            with pytest.raises(QueryError):
                s.rt.load(FAM, extra="x")
            with pytest.raises(QueryError):
                s.rt.load(FAM, ("name LIKE", "x\\"))

    @conformance("failover", ops=("store", "load"))
    def test_writes_go_to_the_first_healthy_backend_only(self, ara_target: Target) -> None:
        """A write stops at the first backend that succeeds."""
        with _pair(ara_target) as s:
            assert s.rt.store(FAM, {"name": "w"}) == 1
            assert s.direct("primary").load(FAM, name="w") == {"name": "w"}
            assert s.direct("secondary").load(FAM, name="w") is None
