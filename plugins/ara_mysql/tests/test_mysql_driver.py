"""mysql-specific behaviour: Asterisk's schemas, exact matching on MariaDB's default collation,
matched-row counts, read/write sections, configuration; and the shared SQL-driver tests
(ara_testservers.sqldriver)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ara_mysql.config import read_config
from ara_realtime import ConfigError, QueryError, Realtime
from ara_realtime.plugins import Plugins
from ara_testservers import MariaDBServer
from ara_testservers.sqldriver import *  # noqa: F403  (what every SQL driver shares)


def test_sippeers_enums_and_exact_matching(ast: Realtime) -> None:
    assert (
        ast.store(
            "sippeers",
            {
                "name": "Alice",
                "type": "friend",
                "transport": "udp,tcp",
                "trustrpid": "yes",
                "session-timers": "accept",
                "allow": "ulaw;alaw",
                "port": "5060",
            },
        )
        == 1
    )
    ast.store("sippeers", {"name": "bob ", "type": "peer", "trustrpid": "no"})
    row = ast.load("sippeers", name="Alice")
    assert row is not None and row["transport"] == "udp,tcp" and row["allow"] == "ulaw;alaw"
    assert row["id"].isdigit() and row["port"] == "5060"
    assert ast.load("sippeers", name="alice") is None  # utf8mb4_general_ci would match
    assert ast.load("sippeers", name="Alice ") is None  # PAD SPACE would match
    assert ast.load("sippeers", name="bob") is None
    assert ast.load("sippeers", name="bob ")["type"] == "peer"  # type: ignore[index]
    assert ast.load("sippeers", ("name LIKE", "a%")) is None
    assert ast.load("sippeers", type="FRIEND") is None
    assert [r["type"] for r in ast.load_multi("sippeers", ("type !=", ""))] == ["friend", "peer"]
    assert ast.update("sippeers", "name", "bob ", {"type": "user"}) == 1
    # enums order as text (friend < user), not by their index (friend, user, peer)
    ast.store("sippeers", {"name": "carol", "type": "peer"})
    assert [r["type"] for r in ast.load_multi("sippeers", ("type LIKE", "%"))] == [
        "friend",
        "peer",
        "user",
    ]
    with pytest.raises(QueryError):
        ast.update("sippeers", "name", "carol", {"type": "nonsense"})
    assert ast.load("sippeers", ("session-timers", "accept"))["name"] == "Alice"  # type: ignore[index]


def test_point_lookup_keeps_using_the_index(
    ast: Realtime, sql: Callable[..., Any], asterisk_db: str
) -> None:
    ast.store("sippeers", {"name": "x"})
    conn = ast._backends[("mysql", "asterisk")].connection
    info = conn.table("sippeers", "sippeers")
    from ara_realtime.conditions import Condition

    select, params = conn.statements.select(info, (Condition("name", "=", "x"),), "s", multi=False)
    assert "COLLATE" in select
    plan = sql(f"EXPLAIN {select.replace('`sippeers`', f'{asterisk_db}.sippeers', 1)}", params)
    assert plan[0][3] in ("const", "ref", "eq_ref"), plan  # access type: an index, not ALL


def test_updates_count_matched_rows(ast: Realtime) -> None:
    ast.store("sippeers", {"name": "a", "host": "h"})
    assert ast.update("sippeers", "name", "a", {"host": "h"}) == 1  # unchanged, still matched
    assert ast.update2("sippeers", {"host": "h"}, {"host": "h"}) == 1


def test_read_write_sections(
    mariadb_server: MariaDBServer,
    sql_tables: Callable[[str], str],
    sql: Callable[..., Any],
    tmp_path: Path,
    dbapi: str,
) -> None:
    mariadb_server.sql("CREATE DATABASE IF NOT EXISTS ara_replica CHARACTER SET utf8mb4")
    table = sql_tables("rw")
    s = mariadb_server
    (tmp_path / "res_config_mysql.conf").write_text(
        f"[writer]\ndbhost = 127.0.0.1\ndbport = {s.port}\ndbname = ara\ndbuser = {s.user}\n"
        f"dbpass = {s.password}\nrequirements = createclose\ndbapi = {dbapi}\n"
        f"[reader]\ndbhost = 127.0.0.1\ndbport = {s.port}\ndbname = ara_replica\n"
        f"dbuser = {s.user}\ndbpass = {s.password}\ndbapi = {dbapi}\n"
    )
    (tmp_path / "extconfig.conf").write_text(f"[settings]\nfam => mysql,reader/writer,{table}\n")
    rt = Realtime.from_config_dir(tmp_path, plugins=Plugins())
    try:
        assert rt.require("fam", {"name": ("char", 20)})
        sql(f"CREATE TABLE ara_replica.{table} LIKE ara.{table}")
        assert rt.store("fam", {"name": "written"}) == 1
        assert sql(f"SELECT name FROM ara.{table}") == [("written",)]
        assert rt.load("fam", name="written") is None  # reads go to the reader section
        sql(f"INSERT INTO ara_replica.{table} (name) VALUES ('replicated')")
        assert rt.load("fam", name="replicated") == {"name": "replicated"}
    finally:
        rt.close()
        sql(f"DROP TABLE IF EXISTS ara_replica.{table}")


def test_status_asks_both_sections_of_a_pair(
    mariadb_server: MariaDBServer, tmp_path: Path, dbapi: str
) -> None:
    """A reader that answers does not hide a writer that does not: each side is reported."""
    s = mariadb_server
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    section = f"dbname = ara\ndbuser = {s.user}\ndbpass = {s.password}\ndbapi = {dbapi}\n"
    (tmp_path / "res_config_mysql.conf").write_text(
        f"[reader]\ndbhost = 127.0.0.1\ndbport = {s.port}\n{section}"
        f"[writer]\ndbhost = 127.0.0.1\ndbport = {s.port}\n{section}"
        f"[gone]\ndbhost = 127.0.0.1\ndbport = {dead}\nconnect_timeout = 1\n{section}"
    )
    (tmp_path / "extconfig.conf").write_text("[settings]\nfam => mysql,reader/writer\n")
    rt = Realtime.from_config_dir(tmp_path, plugins=Plugins())
    try:
        (st,) = rt.status()
        assert st.state == "up", st
        assert st.sides["read"].reached == st.sides["write"].reached == f"127.0.0.1:{s.port}"
    finally:
        rt.close()
    (tmp_path / "extconfig.conf").write_text("[settings]\nfam => mysql,reader/gone\n")
    rt = Realtime.from_config_dir(tmp_path, plugins=Plugins())
    try:
        (st,) = rt.status()
        assert st.state == "down", st
        assert st.sides["read"].state == "up" and st.sides["write"].state == "down"
        assert st.error is not None and st.error.startswith("write: ")
        assert f"127.0.0.1:{dead}" in st.error and s.password not in st.error
        # the write side's error names that side, once
        assert st.error.count("mysql database") == 1, st.error
        assert "mysql database 'reader/gone', writes (" in st.error, st.error
        assert st.detail is not None and f"writes: {s.user}@127.0.0.1:{dead}/ara" in st.detail
    finally:
        rt.close()


# -- configuration --------------------------------------------------------------------------


def test_res_config_mysql_conf_sections(tmp_path: Path) -> None:
    (tmp_path / "res_config_mysql.conf").write_text(
        "[general]\ndbhost = db.example\ndbname = asterisk\ndbuser = ast\ndbpass = s3cret-pw\n"
        "dbport = 3307\ndbcharset = utf8mb4\nrequirements = warn\nssl_ca = /ca.pem\n"
        "[other]\ndbsock = /run/my.sock\ndbname = two\ndbapi = pymysql\ncodec = off\n"
    )
    spec = read_config("general", {}, tmp_path)
    args = dict(spec.connect_args)
    assert args.pop("client_flag") == 2
    assert args == {
        "host": "db.example",
        "port": 3307,
        "database": "asterisk",
        "user": "ast",
        "password": "s3cret-pw",
        "charset": "utf8mb4",
        "ssl": {"ca": "/ca.pem"},
        "connect_timeout": 5,
        "read_timeout": 3,
        "write_timeout": 3,
    }
    other = read_config("other", {}, tmp_path)
    assert other.connect_args["unix_socket"] == "/run/my.sock"
    assert other.url.drivername == "mysql+pymysql" and not other.settings.codec
    both = read_config("general/other", {}, tmp_path)
    assert both.write is not None and both.write.connect_args["database"] == "two"
    for shown in (repr(spec), spec.label, both.label):
        assert "s3cret-pw" not in shown


def test_legacy_file_name_and_url(tmp_path: Path) -> None:
    (tmp_path / "res_mysql.conf").write_text("[x]\ndbhost = h\n")
    assert read_config("x", {}, tmp_path).connect_args["host"] == "h"
    url = read_config("x", {"url": "mariadb://u:pw@h:1/d", "dbapi": "pymysql"}, None)
    assert url.url.drivername == "mysql+pymysql" and "pw" not in url.label
    with pytest.raises(ConfigError, match="mysqlclient"):
        read_config("x", {"url": "mysql+asyncmy://u@h/d"}, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[db]\ndbhost = h\nnosuch = 1\n",
            r"res_config_mysql.conf:3: \[db\]: unknown setting 'nosuch'",
        ),
        (
            "[db]\nrequirements = sometimes\n",
            r"res_config_mysql.conf:2: requirements must be one of",
        ),
        ("[db]\ndbhost = h\ndbport = x\n", r"res_config_mysql.conf:3: dbport must be a number"),
        ("[db]\ndbapi = odbc\n", r"res_config_mysql.conf:2: dbapi must be"),
        ("[db]\npool_timeout = -1\n", r"res_config_mysql.conf:2: pool_timeout must be at least"),
    ],
)
def test_config_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "res_config_mysql.conf").write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_config("db", {}, tmp_path)
