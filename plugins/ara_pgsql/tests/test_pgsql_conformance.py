"""The ara-conformance suite on the pgsql driver, against the throwaway PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ara_conformance.suite import ConformanceTests
from ara_pgsql.conformance import PgsqlTarget
from ara_testservers import PostgresServer


class TestPgsql(ConformanceTests):
    @pytest.fixture(scope="class")
    @classmethod
    def ara_target(cls, pg_server: PostgresServer) -> Iterator[PgsqlTarget]:
        target = PgsqlTarget(settings=pg_server.settings())
        yield target
        target.close()
