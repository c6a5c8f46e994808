"""``res_config_mysql.conf`` (or ``res_mysql.conf``): one section per connection, or a URL.

The ``extconfig.conf`` database names the section; ``read/write`` names two sections, the
first for reads and static files, the second for writes and table descriptions (Asterisk's
``readsec/writesec``). Settings given in code override the file and apply to both sections.
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from ara_realtime.sql.sqla import COMMON_KEYS, CommonSettings, ConnectSpec, Source
from ara_realtime.sql.sqla.settings import Settings, read_settings

__all__ = ["CONF_FILES", "DBAPIS", "KEYS", "read_config"]

CONF_FILES = ("res_config_mysql.conf", "res_mysql.conf")

KEYS = COMMON_KEYS | {
    "dbhost",
    "dbname",
    "dbuser",
    "dbpass",
    "dbport",
    "dbsock",
    "dbcharset",
    "ssl_ca",
    "ssl_cert",
    "ssl_key",
    "ssl_mode",
    "dbapi",
}

#: ``dbapi`` setting -> SQLAlchemy driver name. ``auto`` prefers mysqlclient when installed.
DBAPIS = {"mysqlclient": "mysqldb", "pymysql": "pymysql"}
#: Where Asterisk looks for a server socket when neither dbhost nor dbsock is set.
_SOCKETS = (
    "/tmp/mysql.sock",  # noqa: S108
    "/var/lib/mysql/mysql.sock",
    "/var/run/mysqld/mysqld.sock",
)
_FOUND_ROWS = 2  # CLIENT.FOUND_ROWS in both MySQLdb and PyMySQL: updates count matched rows


def _dbapi(s: Settings) -> str:
    choice = (s.get("dbapi", default="auto") or "auto").strip().lower()
    if choice == "auto":
        return "mysqldb" if importlib.util.find_spec("MySQLdb") is not None else "pymysql"
    if choice not in DBAPIS:
        raise s.source("dbapi").error(f"dbapi must be auto, mysqlclient or pymysql, got {choice!r}")
    return DBAPIS[choice]


def _spec(
    database: str, section: str, code: Mapping[str, str], config_dir: Path | None
) -> ConnectSpec:
    s = read_settings(config_dir, CONF_FILES, [section], KEYS, code)
    common = CommonSettings.parse(s.values, s.where)
    driver = _dbapi(s)
    args: dict[str, Any] = {"client_flag": _FOUND_ROWS}
    ssl = {k[4:]: v for k in ("ssl_ca", "ssl_cert", "ssl_key") if (v := s.get(k))}
    if ssl:
        args["ssl"] = ssl
    if s.get("ssl_mode"):
        if driver != "mysqldb":
            raise s.source("ssl_mode").error("ssl_mode needs mysqlclient (dbapi = mysqlclient)")
        args["ssl_mode"] = s.get("ssl_mode")
    charset = s.get("dbcharset", default="utf8mb4") or "utf8mb4"
    args["charset"] = charset
    if "url" in s.values:
        url = _url(s.values["url"], s.source("url"), driver)
        where = f"{url.username or ''}@{url.host or ''}:{url.port or 3306}/{url.database or ''}"
    else:
        host = s.get("dbhost") or ""
        port = s.get("dbport", default="3306") or "3306"
        if not port.isdigit():
            raise s.source("dbport").error(f"dbport must be a number, got {port!r}")
        dbname = s.get("dbname", default="asterisk") or "asterisk"
        user = s.get("dbuser", default="asterisk") or "asterisk"
        args.update(user=user, password=s.get("dbpass", default="asterisk") or "", database=dbname)
        if host:
            args.update(host=host, port=int(port))
            where = f"{user}@{host}:{port}/{dbname}"
        else:
            sock = s.get("dbsock") or next((p for p in _SOCKETS if os.path.exists(p)), None)
            if sock is None:
                raise s.source("dbhost", "dbsock").error(
                    f"[{section}]: no dbhost, no dbsock, and none of {', '.join(_SOCKETS)} exists"
                )
            args["unix_socket"] = sock
            where = f"{user}@{sock}/{dbname}"
        url = URL.create(f"mysql+{driver}")
    # Both DB-APIs also bound every read and write themselves: the backstop for round trips
    # SQLAlchemy makes where the watchdog does not look (mysqlclient counts whole seconds;
    # libmariadb gives up after one read_timeout, Oracle's libmysqlclient documents up to
    # three). PyMySQL reads the server's greeting under read_timeout, not connect_timeout.
    args["connect_timeout"] = common.connect_timeout
    qt = common.query_timeout
    args["read_timeout"] = args["write_timeout"] = (
        math.ceil(qt) if url.get_driver_name() == "mysqldb" else qt
    )
    label = f"mysql database {database!r} ({where})"
    return ConnectSpec(url, label, common, args, source=s.source("url"))


def read_config(database: str, code: Mapping[str, str], config_dir: Path | None) -> ConnectSpec:
    """Settings for ``database`` (a section, or ``read/write`` sections) and from code."""
    read, sep, write = database.partition("/")
    spec = _spec(database, read.strip(), code, config_dir)
    if sep:
        spec.write = _spec(database, write.strip(), code, config_dir)
        spec.label = f"{spec.label} / writes: {spec.write.label}"
    return spec


def _url(text: str, src: Source, driver: str) -> URL:
    try:
        url = make_url(text)
    except Exception:
        raise src.error(
            "url is not a valid SQLAlchemy URL"
        ) from None  # the text may hold a password
    if url.get_backend_name() not in ("mysql", "mariadb"):
        raise src.error(f"url must be a mysql:// or mariadb:// URL, got {url.drivername!r}")
    if "+" in url.drivername:
        named = url.get_driver_name()
        if named not in DBAPIS.values():
            raise src.error(
                f"ara-mysql runs on mysqlclient (mysql+mysqldb) or PyMySQL (mysql+pymysql), "
                f"not {url.drivername!r}"
            )
        driver = named
    for key in ("connect_timeout", "read_timeout", "write_timeout"):
        if key in url.query:
            raise src.error(
                f"{key} in the url: set connect_timeout and query_timeout with their own keys"
            )
    return url.set(drivername=f"mysql+{driver}")
