"""``res_pgsql.conf``: Asterisk's settings, a section per database, or a SQLAlchemy URL.

Asterisk reads ``[general]`` only and ignores the database named in ``extconfig.conf``. Here
``[general]`` is the default and a section named after that database, if present, overrides
it key by key, so several PostgreSQL databases can be mapped. Settings given in code override
both.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from ara_realtime.sql.sqla import COMMON_KEYS, CommonSettings, ConnectSpec, Source, parse_bool
from ara_realtime.sql.sqla.settings import read_settings

__all__ = ["CONF_FILE", "KEYS", "read_config"]

CONF_FILE = "res_pgsql.conf"

#: Asterisk's keys (legacy spellings included) plus TLS, pool and codec settings.
KEYS = COMMON_KEYS | {
    "hostname",
    "dbhost",
    "port",
    "dbport",
    "dbname",
    "user",
    "dbuser",
    "password",
    "dbpass",
    "appname",
    "dbappname",
    "socket",
    "dbsock",
    "order_multi_row_results_by_initial_column",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "prepare",
}
_DRIVER = "postgresql+psycopg"


def read_config(database: str, code: Mapping[str, str], config_dir: Path | None) -> ConnectSpec:
    """Settings for ``database`` from ``res_pgsql.conf`` in ``config_dir`` and from code."""
    sections = ["general"] if database == "general" else ["general", database]
    s = read_settings(config_dir, [CONF_FILE], sections, KEYS, code)
    common = CommonSettings.parse(s.values, s.where)
    prepare = parse_bool("prepare", s.get("prepare", default="yes") or "yes", s.source("prepare"))
    if "order_multi_row_results_by_initial_column" in s.values:
        parse_bool(
            "order_multi_row_results_by_initial_column",
            s.values["order_multi_row_results_by_initial_column"],
            s.source("order_multi_row_results_by_initial_column"),
        )  # accepted for compatibility; load_multi always orders (the contract)
    args: dict[str, Any] = {}
    for key, names in (
        ("sslmode", ("sslmode",)),
        ("sslrootcert", ("sslrootcert",)),
        ("sslcert", ("sslcert",)),
        ("sslkey", ("sslkey",)),
        ("sslcrl", ("sslcrl",)),
        ("application_name", ("appname", "dbappname")),
    ):
        value = s.get(*names)
        if value:
            args[key] = value
    if common.connect_timeout < 2:  # libpq (and psycopg after it) waits 2 s at least
        raise s.source("connect_timeout").error(
            f"connect_timeout must be at least 2 for PostgreSQL, got {common.connect_timeout}"
        )
    args["connect_timeout"] = str(common.connect_timeout)
    if "url" in s.values:
        url = _url(s.values["url"], s.source("url"))
        shown = url.host or str(url.query.get("host", ""))
        where = f"{url.username or ''}@{shown}:{url.port or 5432}/{url.database or ''}"
    else:
        socket = s.get("socket", "dbsock", default="/tmp")  # noqa: S108  (Asterisk's default)
        host = s.get("hostname", "dbhost") or socket
        port = s.get("port", "dbport", default="5432")
        assert host is not None and port is not None
        if not port.isdigit():
            raise s.source("port", "dbport").error(f"port must be a number, got {port!r}")
        dbname = s.get("dbname", default="asterisk")
        user = s.get("user", "dbuser", default="asterisk")
        args.update(host=host, port=int(port), dbname=dbname, user=user)
        password = s.get("password", "dbpass", default="asterisk")
        if password:
            args["password"] = password
        url = URL.create(_DRIVER)
        where = f"{user}@{host}:{port}/{dbname}"
    label = f"pgsql database {database!r} ({where})"
    return ConnectSpec(
        url, label, common, args, options={"prepare": prepare}, source=s.source("url")
    )


def _url(text: str, src: Source) -> URL:
    try:
        url = make_url(text)
    except Exception:
        raise src.error(
            "url is not a valid SQLAlchemy URL"
        ) from None  # the text may hold a password
    if url.get_backend_name() != "postgresql":
        raise src.error(f"url must be a postgresql URL, got {url.drivername!r}")
    if "+" in url.drivername and url.get_driver_name() != "psycopg":
        raise src.error(
            f"ara-pgsql runs on psycopg 3: use postgresql+psycopg://..., not {url.drivername!r}"
        )
    if "connect_timeout" in url.query:
        raise src.error("set connect_timeout with its own key, not in the url")
    return url.set(drivername=_DRIVER)
