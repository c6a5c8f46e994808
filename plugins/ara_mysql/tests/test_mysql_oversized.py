"""A value too large for the server's max_allowed_packet is the caller's mistake (QueryError).

It used to be sent, the server dropped the connection ("server has gone away") and the call
became a BackendError: failover, back-off, and the same error on every backend.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from ara_mysql.driver import quote
from ara_realtime import QueryError, Realtime


@pytest.fixture
def blob_rt(
    make_rt: Callable[..., Realtime],
    sql_tables: Callable[[str], str],
    sql: Callable[..., list[tuple[Any, ...]]],
) -> Realtime:
    table = sql_tables("blobs")
    sql(
        f"CREATE TABLE {quote(table)} (name VARCHAR(40) PRIMARY KEY, body LONGTEXT) "
        "DEFAULT CHARSET=utf8mb4"
    )
    return make_rt({"blobs": f"mysql,ara,{table}"})


@pytest.mark.parametrize(
    ("what", "value"),
    [
        ("20 MB of text", "x" * 20_000_000),
        ("7 MB of ';', 21 MB after the ^XX codec", ";" * 7_000_000),
    ],
)
def test_an_oversized_value_is_a_query_error_and_the_backend_stays_healthy(
    blob_rt: Realtime, what: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    rt = blob_rt
    assert rt.store("blobs", {"name": "small", "body": "fits"}) == 1
    with caplog.at_level(logging.WARNING), pytest.raises(QueryError) as info:
        rt.store("blobs", {"name": "big", "body": value})
    assert "max_allowed_packet" in str(info.value), what
    assert value[:100] not in str(info.value)
    with pytest.raises(QueryError, match="max_allowed_packet"):
        rt.update("blobs", "name", "small", {"body": value})
    with pytest.raises(QueryError, match="max_allowed_packet"):
        rt.load("blobs", ("body", "x" * 20_000_000))  # a look-up value is bound as it is
    # no failover, no back-off: the very next call works
    assert not [r for r in caplog.records if "failed" in r.getMessage()]
    assert rt._backends[("mysql", "ara")].failures == 0
    assert rt.load("blobs", name="small") == {"name": "small", "body": "fits"}
    assert rt.load("blobs", name="big") is None


def test_a_large_value_that_fits_is_stored_exactly(blob_rt: Realtime) -> None:
    value = "é;^" * 1_000_000  # 7 MB on the wire after the codec and UTF-8
    assert blob_rt.store("blobs", {"name": "large", "body": value}) == 1
    assert blob_rt.load("blobs", name="large") == {"name": "large", "body": value}
