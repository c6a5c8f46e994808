"""Asterisk's own table schemas (as its alembic scripts create them on each DBMS), read and written
through the odbc driver: enums, exact matching on default collations, matched-row counts, the
awkward column names, static configuration, ``require`` on the real column types."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ara_odbc.driver import pyodbc_module
from ara_realtime import QueryError, Realtime
from ara_realtime.plugins import Plugins
from ara_testservers import MariaDBServer, PostgresServer
from ara_testservers.odbc import Dsn, OdbcFiles
from ara_testservers.schemas import asterisk_statements

FAMILIES = ("sippeers", "ps_endpoints", "ps_contacts", "ps_outbound_publishes")
DATABASE = "odbc_asterisk"


@pytest.fixture(scope="module", params=["postgresql", "mariadb", "sqlite"])
def schema_dsn(request: pytest.FixtureRequest, odbc_files: OdbcFiles) -> Iterator[str]:
    """A connection string reaching a fresh database holding Asterisk's tables."""
    kind = request.param
    if kind == "postgresql":
        pg: PostgresServer = request.getfixturevalue("pg_server")
        dsn: Dsn = request.getfixturevalue("odbc_pg")
        pg.psql(f"DROP DATABASE IF EXISTS {DATABASE}", f"CREATE DATABASE {DATABASE} OWNER ara")
        cs = f"DSN={dsn.name};Database={DATABASE}"
    elif kind == "mariadb":
        my: MariaDBServer = request.getfixturevalue("mariadb_server")
        dsn = request.getfixturevalue("odbc_mariadb")
        my.sql(
            f"DROP DATABASE IF EXISTS {DATABASE}; CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4"
        )
        cs = f"DSN={dsn.name};Database={DATABASE}"
    else:
        dsn = request.getfixturevalue("odbc_sqlite")
        path = odbc_files.directory / f"{DATABASE}.sqlite3"
        path.unlink(missing_ok=True)
        cs = f"DSN={dsn.name};Database={path}"
    conn = pyodbc_module().connect(cs, autocommit=True)
    cur = conn.cursor()
    for sql in asterisk_statements(kind):
        cur.execute(sql)
    conn.close()
    yield cs


@pytest.fixture
def ast(schema_dsn: str) -> Iterator[Realtime]:
    mappings = {f: "odbc,asterisk" for f in FAMILIES}
    mappings["extensions.conf"] = "odbc,asterisk,ast_config"
    rt = Realtime(mappings, {"odbc": {"asterisk": {"dsn": schema_dsn}}}, plugins=Plugins())
    yield rt
    conn = pyodbc_module().connect(schema_dsn, autocommit=True)
    for table in (*FAMILIES, "ast_config"):
        conn.cursor().execute(f"DELETE FROM {table}")
    conn.close()
    rt.close()


def test_sippeers_enums_exact_matching_and_counts(ast: Realtime) -> None:
    peer = {
        "name": "Alice",
        "port": "5060",
        "type": "friend",
        "transport": "udp,tcp",
        "allow": "ulaw;alaw",
        "trustrpid": "yes",
        "session-timers": "accept",
    }
    assert ast.store("sippeers", peer) == 1
    assert ast.store("sippeers", {"name": "bob ", "type": "peer", "trustrpid": "no"}) == 1
    row = ast.load("sippeers", name="Alice")
    assert row is not None
    assert {k: row[k] for k in peer} == peer  # enums and numbers as text, ';' round-trips
    assert list(row)[:2] == ["id", "name"]  # table order; NULL columns left out
    assert "ipaddr" not in row
    # exact: case and trailing spaces matter on every DBMS's default collation
    assert ast.load("sippeers", name="alice") is None
    assert ast.load("sippeers", name="bob") is None
    assert ast.load("sippeers", name="bob ") is not None
    # enums compare as their text; LIKE and ordering too
    assert [r["name"] for r in ast.load_multi("sippeers", ("type", "friend"))] == ["Alice"]
    assert [r["name"] for r in ast.load_multi("sippeers", ("trustrpid LIKE", "%"))] == [
        "bob ",  # 'no' < 'yes'
        "Alice",
    ]
    assert [r["name"] for r in ast.load_multi("sippeers", ("port >", "100"))] == ["Alice"]
    # update counts matched rows, also when nothing changes (MariaDB: found rows)
    assert ast.update("sippeers", "name", "Alice", {"port": "5060"}) == 1
    assert ast.update2("sippeers", {"name": "Alice"}, {"session-timers": "refuse"}) == 1
    assert ast.load("sippeers", name="Alice")["session-timers"] == "refuse"  # type: ignore[index]
    with pytest.raises(QueryError, match="sippeers"):  # not one of the enum's labels
        ast.store("sippeers", {"name": "carol", "type": "nobody"})
    assert ast.load("sippeers", name="carol") is None
    assert ast.destroy("sippeers", "name", "bob ") == 1


def test_pjsip_tables_and_awkward_column_names(ast: Realtime) -> None:
    assert ast.store("ps_endpoints", {"id": "100", "100rel": "required", "context": "from"}) == 1
    assert ast.load("ps_endpoints", ("100rel", "required"))["id"] == "100"  # type: ignore[index]
    for i, expires in enumerate(("1700000000", "1800000000", "4102444800")):
        ast.store("ps_contacts", {"id": f"c{i}", "uri": "sip:x", "expiration_time": expires})
    old = ast.load_multi("ps_contacts", ("expiration_time <=", "1800000000"))
    assert [r["id"] for r in old] == ["c0", "c1"]
    ast.store("ps_outbound_publishes", {"id": "p", "@body": "text/plain", "@context": "a;b"})
    row = ast.load("ps_outbound_publishes", ("@body", "text/plain"))
    assert row is not None and row["@context"] == "a;b"


def test_static_configuration(ast: Realtime) -> None:
    rows = [
        (0, 0, "extensions.conf", "general", "static", "yes"),
        (0, 1, "extensions.conf", "general", "writeprotect", "no"),
        (1, 0, "extensions.conf", "default", "exten", "_X.,1,NoOp(a;b)"),
    ]
    for cat_metric, var_metric, filename, category, name, value in rows:
        ast.store(
            "extensions.conf",
            {
                "cat_metric": str(cat_metric),
                "var_metric": str(var_metric),
                "filename": filename,
                "category": category,
                "var_name": name,
                "var_val": value,
            },
        )
    cfg = ast.load_config("extensions.conf")
    assert [c.name for c in cfg] == ["default", "general"]  # cat_metric descending
    assert cfg.get("default", "exten") == "_X.,1,NoOp(a;b)"  # stored as ^3B, decoded
    assert cfg["general"].items() == [("static", "yes"), ("writeprotect", "no")]


def test_require_on_asterisk_column_types(ast: Realtime) -> None:
    assert ast.require(
        "sippeers",
        {"name": ("char", 40), "port": ("uinteger2", 5), "regseconds": ("integer4", 11)},
    )
    # too short a column (SQLite has no lengths), a missing one: warnings, False
    kind = ast._backends[("odbc", "asterisk")].connection.dbms.kind
    assert ast.require("sippeers", {"name": ("char", 80)}) is (kind == "sqlite")
    assert not ast.require("sippeers", {"nosuch": ("char", 10)})


def test_unload_forgets_metadata(ast: Realtime, schema_dsn: str) -> None:
    ast.store("ps_endpoints", {"id": "1"})
    assert ast.load("ps_endpoints", id="1") == {"id": "1"}
    conn: Any = pyodbc_module().connect(schema_dsn, autocommit=True)
    try:
        conn.cursor().execute("ALTER TABLE ps_endpoints ADD mailboxes_extra VARCHAR(40)")
        conn.cursor().execute("UPDATE ps_endpoints SET mailboxes_extra = 'x'")
    finally:
        conn.close()
    assert "mailboxes_extra" not in ast.load("ps_endpoints", id="1")  # type: ignore[operator]
    ast.unload("ps_endpoints")
    assert ast.load("ps_endpoints", id="1") == {"id": "1", "mailboxes_extra": "x"}
    conn = pyodbc_module().connect(schema_dsn, autocommit=True)
    try:
        conn.cursor().execute("ALTER TABLE ps_endpoints DROP COLUMN mailboxes_extra")
    finally:
        conn.close()
