"""What an SQL driver on a typed server does beyond the conformance suite (shared tests).

The conformance suite (ara-conformance) checks the contract on every driver. These tests check
what only a server with typed, sized columns gives, on a real server: ``require`` compares the
types and sizes of existing columns; the server refuses values its columns cannot hold (the
suite accepts "refused or kept exactly"); table metadata is cached until ``unload``; a refused
login never shows the password; Asterisk's own tables for that server (enums, floats, decimals,
timestamps, ``100rel``, ``@body``, ``ast_config``) work. A driver's test module runs them with
``from ara_testservers.sqldriver import *``; the fixtures come from
:mod:`ara_testservers.sqlfixtures`.
"""

from __future__ import annotations

import logging

import pytest

from ara_realtime import BackendError, QueryError, Realtime
from ara_realtime.plugins import Plugins

from .sqlfixtures import SqlKind, SqlServer

__all__ = [
    "test_a_refused_login_never_shows_the_password",
    "test_asterisks_own_tables",
    "test_require_checks_the_types_and_sizes_of_existing_columns",
    "test_the_server_refuses_values_its_columns_cannot_hold",
    "test_unload_drops_the_cached_table_metadata",
]


def test_require_checks_the_types_and_sizes_of_existing_columns(rt: Realtime) -> None:
    assert rt.require("peers", {"name": ("char", 40), "port": ("integer4", 11)})
    assert not rt.require("peers", {"name": ("char", 400)})  # too short
    assert not rt.require("peers", {"port": ("char", 10)})  # not text
    assert not rt.require("peers", {"port": ("uinteger8", 20)})  # too small


def test_unload_drops_the_cached_table_metadata(rt: Realtime) -> None:
    rt.store("peers", {"name": "a"})
    assert rt.load("peers", name="a") == {"name": "a"}
    assert rt.unload("peers") is True
    assert rt.unload("peers") is False
    assert rt.load("peers", name="a") == {"name": "a"}


def test_the_server_refuses_values_its_columns_cannot_hold(rt: Realtime) -> None:
    rt.store("peers", {"name": "a", "host": "h"})
    with pytest.raises(QueryError):
        rt.update("peers", "name", "a", {"host": "new", "port": "not a number"})
    with pytest.raises(QueryError):
        rt.store("peers", {"name": "x" * 500})
    assert rt.load_multi("peers", ("name LIKE", "%")) == [{"name": "a", "host": "h"}]


def test_a_refused_login_never_shows_the_password(
    sql_kind: SqlKind,
    sql_server: SqlServer,
    sql_settings: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "wrong-Secret-42"
    settings = {**sql_settings, sql_kind.credential_setting: wrong}
    driver = sql_kind.driver
    rt = Realtime({"fam": f"{driver},ara,nosuch"}, {driver: {"ara": settings}}, plugins=Plugins())
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(BackendError) as info:
            rt.load("fam", name="x")
        text = str(info.value) + repr(info.value) + caplog.text + repr(rt)
        text += repr(rt._backends[(driver, "ara")])
        assert sql_kind.login_refused in str(info.value)
        assert wrong not in text
    finally:
        rt.close()


def test_asterisks_own_tables(ast: Realtime) -> None:
    endpoint = {"id": "100", "100rel": "peer_supported", "direct_media": "no"}
    ast.store("ps_endpoints", {**endpoint, "dtmf_mode": "auto_info"})
    ast.store("ps_endpoints", {"id": "101", "100rel": "yes", "direct_media": "false"})
    assert ast.load("ps_endpoints", ("100rel", "peer_supported"))["id"] == "100"  # type: ignore[index]
    assert [r["id"] for r in ast.load_multi("ps_endpoints", ("id LIKE", "10%"))] == ["100", "101"]
    ast.store("ps_aors", {"id": "100", "max_contacts": "1", "qualify_timeout": "3.5"})
    assert ast.load("ps_aors", ("qualify_timeout >", "3"))["qualify_timeout"] == "3.5"  # type: ignore[index]
    ast.store("ps_contacts", {"id": "c1", "expiration_time": "1790000000"})
    assert ast.load_multi("ps_contacts", ("expiration_time <=", "1790000000"))[0]["id"] == "c1"
    publish = {"id": "p", "@body": "a;b", "@context": "x", "@exten": "1"}
    ast.store("ps_outbound_publishes", publish)
    assert ast.load("ps_outbound_publishes", ("@body", "a;b")) == publish
    ast.store("ps_inbound_publications", {"id": "i", "event_asterisk-mwi": "m"})
    changed = ast.update2("ps_inbound_publications", {"event_asterisk-mwi": "m"}, {"endpoint": "e"})
    assert changed == 1
    ast.store("musiconhold", {"name": "default", "mode": "files", "stamp": "2026-01-02 03:04:05"})
    assert ast.load("musiconhold", ("stamp >=", "2026-01-01"))["stamp"] == "2026-01-02 03:04:05"  # type: ignore[index]
    ast.store("voicemail", {"context": "d", "mailbox": "1", "password": "1234", "volgain": "1.5"})
    assert ast.load("voicemail", mailbox="1")["volgain"] == "1.50"  # type: ignore[index]
    for name, value, var_metric in [("b", "2", "1"), ("a", "1", "0")]:
        row = {"filename": "extensions.conf", "category": "general", "var_name": name}
        row.update(var_val=value, cat_metric="1", var_metric=var_metric)
        assert ast.store("extensions.conf", row) == 1
    assert ast.load_config("extensions.conf")["general"].items() == [("a", "1"), ("b", "2")]
