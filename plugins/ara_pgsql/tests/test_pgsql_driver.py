"""pgsql-specific behaviour: Asterisk's schemas with enums, require, configuration; and the
shared SQL-driver tests (ara_testservers.sqldriver)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ara_pgsql.config import read_config
from ara_realtime import ConfigError, QueryError, Realtime
from ara_testservers.sqldriver import *  # noqa: F403  (what every SQL driver shares)


def test_sippeers_enums_without_casts(ast: Realtime) -> None:
    assert (
        ast.store(
            "sippeers",
            {
                "name": "alice",
                "type": "friend",
                "transport": "udp,tcp",
                "dtmfmode": "rfc2833",
                "session-timers": "accept",
                "trustrpid": "yes",
                "port": "5060",
                "allow": "ulaw;alaw",
            },
        )
        == 1
    )
    ast.store("sippeers", {"name": "bob", "type": "peer", "trustrpid": "no", "port": "5061"})
    row = ast.load("sippeers", type="friend", trustrpid="yes")
    assert row is not None and row["name"] == "alice" and row["transport"] == "udp,tcp"
    assert row["allow"] == "ulaw;alaw" and row["port"] == "5060" and row["id"].isdigit()
    assert [r["name"] for r in ast.load_multi("sippeers", ("type LIKE", "%e%"))] == ["alice", "bob"]
    # enum columns order as text, not in declaration order (friend < peer < user)
    assert [r["type"] for r in ast.load_multi("sippeers", ("type !=", ""))] == ["friend", "peer"]
    assert ast.update("sippeers", "name", "bob", {"type": "user", "session-timers": "refuse"}) == 1
    assert ast.load("sippeers", ("session-timers", "refuse"))["type"] == "user"  # type: ignore[index]
    assert ast.load_multi("sippeers", ("type >", "p")) == [
        r for r in ast.load_multi("sippeers", ("name", "bob"))
    ]
    assert ast.update2("sippeers", {"trustrpid": "no"}, {"trustrpid": ""}) == 1
    assert "trustrpid" not in ast.load("sippeers", name="bob")  # type: ignore[operator]
    with pytest.raises(QueryError, match="enum"):
        ast.update("sippeers", "name", "bob", {"type": "nonsense"})
    assert ast.load("sippeers", type="nonsense") is None  # compared as text: just no match
    assert ast.destroy("sippeers", "name", "alice") == 1


def test_booleans_auth_types_and_pjsip_enums(ast: Realtime) -> None:
    ast.store("ps_contacts", {"id": "c1", "expiration_time": "1790000000", "prune_on_boot": "yes"})
    assert ast.load("ps_contacts", prune_on_boot="yes")["id"] == "c1"  # type: ignore[index]
    ast.store("ps_transports", {"id": "t", "tcp_keepalive_enable": "yes"})
    assert ast.load("ps_transports", tcp_keepalive_enable="true")["id"] == "t"  # type: ignore[index]
    ast.store("ps_auths", {"id": "a", "auth_type": "userpass", "password": "pw"})
    assert ast.load("ps_auths", ("auth_type LIKE", "user%"))["password"] == "pw"  # type: ignore[index]


def test_require_modes(
    make_rt: Callable[..., Realtime],
    sql_tables: Callable[[str], str],
    sql: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    table = sql_tables("req")
    warn = make_rt({"fam": f"pgsql,ara,{table}"}, requirements="warn")
    with caplog.at_level(logging.WARNING):
        assert not warn.require("fam", {"name": ("char", 40)})
    assert "does not exist" in caplog.text
    close = make_rt({"fam": f"pgsql,close,{table}"}, database="close", requirements="createclose")
    assert close.require(
        "fam",
        {
            "name": ("char", 40),
            "tiny": ("integer1", 4),
            "port": ("uinteger2", 5),
            "big": ("uinteger4", 10),
            "huge": ("uinteger8", 20),
            "f": ("float", 10),
            "d": ("date", 10),
            "ts": ("datetime", 19),
        },
    )
    assert close.require("fam", {"extra": ("integer4", 11)})
    types = dict(
        sql(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s",
            (table,),
        )
    )
    assert types == {
        "name": "character varying",
        "tiny": "smallint",
        "port": "integer",
        "big": "bigint",
        "huge": "numeric",
        "f": "double precision",
        "d": "date",
        "ts": "timestamp without time zone",
        "extra": "integer",
    }
    char = make_rt({"fam": f"pgsql,char,{table}"}, database="char", requirements="createchar")
    assert char.require("fam", {"asvarchar": ("uinteger2", 5)})
    assert sql(
        "SELECT data_type, character_maximum_length FROM information_schema.columns "
        "WHERE table_name = %s AND column_name = 'asvarchar'",
        (table,),
    ) == [("character varying", 15)]  # room for the ^XX codec: 3 x 5
    with caplog.at_level(logging.WARNING):
        assert not warn.require("fam", {"missing": ("char", 10)})
        assert not warn.require("fam", {"tiny": ("integer4", 11)})
        assert not warn.require("fam", {"d": ("datetime", 19)})
        assert warn.require("fam", {"ts": ("date", 10), "port": ("uinteger2", 5)})
    assert "missing" in caplog.text and "tiny" in caplog.text


def test_codec_off_stores_values_as_they_are(
    make_rt: Callable[..., Realtime], sql_tables: Callable[[str], str], sql: Callable[..., Any]
) -> None:
    table = sql_tables("raw")
    rt = make_rt(
        {"fam": f"pgsql,raw,{table}"}, database="raw", requirements="createclose", codec="no"
    )
    assert rt.require("fam", {"name": ("char", 20), "v": ("char", 20)})
    rt.store("fam", {"name": "a", "v": "x;y^5E"})
    assert sql(f'SELECT v FROM "{table}"') == [("x;y^5E",)]
    assert rt.load("fam", ("v LIKE", "x;%")) == {"name": "a", "v": "x;y^5E"}
    conn = rt._backends[("pgsql", "raw")].connection
    assert not conn.capabilities.codec


# -- configuration --------------------------------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "res_pgsql.conf").write_text(text)
    return tmp_path


def test_res_pgsql_conf_general_and_database_sections(tmp_path: Path) -> None:
    conf = _write(
        tmp_path,
        "[general]\ndbhost = db.example\ndbport = 5433\ndbname = asterisk\ndbuser = ast\n"
        "dbpass = s3cret-pw\nrequirements = createchar\nappname = pbx\nsslmode = require\n"
        "[other]\ndbname = second\npool_size = 3\ncodec = no\n",
    )
    spec = read_config("general", {}, conf)
    assert spec.connect_args == {
        "host": "db.example",
        "port": 5433,
        "dbname": "asterisk",
        "user": "ast",
        "password": "s3cret-pw",
        "application_name": "pbx",
        "sslmode": "require",
        "connect_timeout": "5",
    }
    assert spec.settings.requirements == "createchar" and spec.settings.codec
    other = read_config("other", {}, conf)
    assert other.connect_args["dbname"] == "second" and other.connect_args["host"] == "db.example"
    assert other.settings.pool_size == 3 and not other.settings.codec
    code = read_config("other", {"dbname": "fromcode"}, conf)
    assert code.connect_args["dbname"] == "fromcode"
    for shown in (repr(spec), spec.label, repr(other)):
        assert "s3cret-pw" not in shown


def test_modern_keys_socket_and_url(tmp_path: Path) -> None:
    spec = read_config("x", {"socket": "/run/postgresql", "user": "u", "password": ""}, None)
    assert spec.connect_args["host"] == "/run/postgresql" and "password" not in spec.connect_args
    url = read_config("x", {"url": "postgresql://u:pw@h:1/d", "sslrootcert": "/ca.pem"}, None)
    assert url.url.drivername == "postgresql+psycopg" and url.url.host == "h"
    assert url.connect_args == {"sslrootcert": "/ca.pem", "connect_timeout": "5"}
    assert "pw" not in url.label
    with pytest.raises(ConfigError, match="psycopg 3"):
        read_config("x", {"url": "postgresql+psycopg2://u@h/d"}, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[general]\ndbhost = h\nnosuch = 1\n",
            r"res_pgsql.conf:3: \[general\]: unknown setting 'nosuch'",
        ),
        ("[general]\nrequirements = sometimes\n", r"res_pgsql.conf:2: requirements must be one of"),
        ("[general]\npool_size = many\n", r"res_pgsql.conf:2: pool_size must be a whole number"),
        ("[general]\ncodec = maybe\n", r"res_pgsql.conf:2: codec must be yes or no"),
        ("[general]\n\nport = 54x\n", r"res_pgsql.conf:3: port must be a number"),
    ],
)
def test_config_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read_config("general", {}, _write(tmp_path, text))
