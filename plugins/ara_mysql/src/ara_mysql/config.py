"""``res_config_mysql.conf`` (or ``res_mysql.conf``): one section per connection, or a URL.

The ``extconfig.conf`` database names the section; ``read/write`` names two sections, the
first for reads and static files, the second for writes and table descriptions (Asterisk's
``readsec/writesec``). Settings given in code override the file and apply to both sections.

``dbhost`` may list several servers (``dbhost = 10.0.0.1, 10.0.0.2:3307``), the nodes of a
Galera cluster or a section's replicas: :mod:`ara_mysql.nodes` uses the first healthy one.
``conflict_retries`` and ``wsrep_sync_wait`` are ara-mysql's own keys.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
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
    "conflict_retries",
    "wsrep_sync_wait",
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
#: Runs of a statement rolled back for a conflict (deadlock, Galera certification) beyond the
#: first, by default.
CONFLICT_RETRIES = 3
#: One ``dbhost`` entry: ``host``, ``host:port``, ``[v6 address]`` or ``[v6 address]:port``.
_HOST = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[^\s:\[\],]+))(?::(?P<port>\d+))?")


def _dbapi(s: Settings) -> str:
    choice = (s.get("dbapi", default="auto") or "auto").strip().lower()
    if choice == "auto":
        return "mysqldb" if importlib.util.find_spec("MySQLdb") is not None else "pymysql"
    if choice not in DBAPIS:
        raise s.source("dbapi").error(f"dbapi must be auto, mysqlclient or pymysql, got {choice!r}")
    return DBAPIS[choice]


def _spec(
    database: str, section: str, code: Mapping[str, str], config_dir: Path | None, side: str = ""
) -> ConnectSpec:
    """One section's settings; ``side`` (``reads``, ``writes``) names it in a pair's labels."""
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
    options: dict[str, Any] = {"conflict_retries": _conflict_retries(s)}
    sync_wait = s.get("wsrep_sync_wait")
    if sync_wait is not None:
        value = sync_wait.strip()
        if not value.isdigit() or int(value) > 15:
            raise s.source("wsrep_sync_wait").error(
                f"wsrep_sync_wait must be a whole number from 0 to 15, got {sync_wait!r}"
            )
        args["init_command"] = f"SET SESSION wsrep_sync_wait = {int(value)}"
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
            nodes = _hosts(host, int(port), s.source("dbhost"))
            if len(nodes) > 1:
                options["nodes"] = nodes
                listed = ", ".join(f"{h}:{p}" for h, p in nodes)
                where = f"{user}@[{listed}]/{dbname}"
            else:
                where = f"{user}@{nodes[0][0]}:{nodes[0][1]}/{dbname}"
            args.update(host=nodes[0][0], port=nodes[0][1])
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
    options["where"] = where  # the pair's whole label names both sections' servers
    label = f"mysql database {database!r}{f', {side}' if side else ''} ({where})"
    return ConnectSpec(url, label, common, args, options=options, source=s.source("url"))


def _conflict_retries(s: Settings) -> int:
    text = (s.get("conflict_retries") or str(CONFLICT_RETRIES)).strip()
    if not text.isdigit() or int(text) > 100:
        raise s.source("conflict_retries").error(
            f"conflict_retries must be a whole number from 0 to 100, got {text!r}"
        )
    return int(text)


def _hosts(text: str, port: int, src: Source) -> list[tuple[str, int]]:
    """``dbhost``'s servers as ``(host, port)``: one, or several separated by commas."""
    if "@" in text:  # user:password@host: never echoed
        raise src.error(
            "dbhost: credentials (user:password@) are not supported here; set dbuser and dbpass"
        )
    out: list[tuple[str, int]] = []
    for entry in (e.strip() for e in text.split(",")):
        found = _HOST.fullmatch(entry)
        if found is None:
            raise src.error(
                f"dbhost must list servers as host or host:port separated by commas, got {entry!r}"
            )
        node = (found["v6"] or found["name"], int(found["port"] or port))
        if not 0 < node[1] < 65536:
            raise src.error(f"dbhost: port {node[1]} of {entry!r} is out of range")
        if node in out:
            raise src.error(f"dbhost lists {entry!r} twice")
        out.append(node)
    return out


def read_config(database: str, code: Mapping[str, str], config_dir: Path | None) -> ConnectSpec:
    """Settings for ``database`` (a section, or ``read/write`` sections) and from code."""
    read, sep, write = database.partition("/")
    if not sep:
        return _spec(database, read.strip(), code, config_dir)
    # each side's errors name that side's servers; the connection names both (status, reprs)
    spec = _spec(database, read.strip(), code, config_dir, "reads")
    spec.write = _spec(database, write.strip(), code, config_dir, "writes")
    spec.whole = (
        f"mysql database {database!r} "
        f"(reads: {spec.options['where']}; writes: {spec.write.options['where']})"
    )
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
