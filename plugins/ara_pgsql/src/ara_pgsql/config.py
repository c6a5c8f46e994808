"""``res_pgsql.conf``: Asterisk's settings, a section per database, or a SQLAlchemy URL.

Asterisk reads ``[general]`` only and ignores the database named in ``extconfig.conf``. Here
``[general]`` is the default and a section named after that database, if present, overrides
it key by key, so several PostgreSQL databases can be mapped. Settings given in code override
both.

Replicated servers: ``hostname`` (and ``port``) may list several servers, as libpq's host lists
do (``hostname = db1,db2``, ``port = 5432`` or ``5432,5433``). Writes then connect with
``target_session_attrs = read-write``: libpq tries the hosts in order and keeps the one that
accepts writes, so after a standby is promoted new connections find it. ``read_from`` says
where reads may go: ``primary`` (the default: with the writes, so a read sees every earlier
write), or ``prefer-standby``, ``standby``, ``any`` (a pool of their own with that
``target_session_attrs``). ``load_balance_hosts = random`` spreads connections over the hosts.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from ara_realtime.sql.sqla import COMMON_KEYS, CommonSettings, ConnectSpec, Source, parse_bool
from ara_realtime.sql.sqla.settings import Settings, read_settings

__all__ = ["CONF_FILE", "KEYS", "LOAD_BALANCE", "READ_FROM", "read_config"]

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
    "read_from",
    "load_balance_hosts",
}
#: ``read_from`` values: libpq's ``target_session_attrs`` of the reads' connections.
READ_FROM = ("primary", "prefer-standby", "standby", "any")
LOAD_BALANCE = ("disable", "random")
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
    read_from = _choice(s, "read_from", READ_FROM, "primary")
    balance = _choice(s, "load_balance_hosts", LOAD_BALANCE, "")
    if balance:
        args["load_balance_hosts"] = balance
    if "url" in s.values:
        url = _url(s.values["url"], s.source("url"))
        hosts = _url_hosts(url)
        several = len(hosts) > 1
        where = f"{url.username or ''}@{','.join(hosts)}/{url.database or ''}"
    else:
        socket = s.get("socket", "dbsock", default="/tmp")  # noqa: S108  (Asterisk's default)
        host = s.get("hostname", "dbhost") or socket
        port = s.get("port", "dbport", default="5432")
        assert host is not None and port is not None
        hosts, ports = _hosts(s, host, port)
        several = len(hosts) > 1
        dbname = s.get("dbname", default="asterisk")
        user = s.get("user", "dbuser", default="asterisk")
        args.update(
            host=",".join(hosts),
            port=",".join(ports) if several else int(ports[0]),
            dbname=dbname,
            user=user,
        )
        password = s.get("password", "dbpass", default="asterisk")
        if password:
            args["password"] = password
        url = URL.create(_DRIVER)
        each = ports * len(hosts) if len(ports) == 1 else ports
        where = f"{user}@{','.join(f'{h}:{p}' for h, p in zip(hosts, each))}/{dbname}"
    label = f"pgsql database {database!r} ({where})"
    options = {"prepare": prepare}
    # writes go where they are accepted: with several hosts libpq must skip the standbys
    write_args = dict(args)
    if several or read_from != "primary":
        write_args["target_session_attrs"] = "read-write"
    if read_from == "primary":
        return ConnectSpec(url, label, common, write_args, options=options, source=s.source("url"))
    # each side's errors say which side failed; the connection names both (status, reprs)
    writes = ConnectSpec(
        url, f"{label}, writes", common, write_args, options=options, source=s.source("url")
    )
    reads = ConnectSpec(
        url,
        f"{label}, reads from {read_from}",
        common,
        {**args, "target_session_attrs": read_from},
        options=options,
        source=s.source("url"),
        whole=f"{label}, reads from {read_from}",
    )
    reads.write = writes
    return reads


def _choice(s: Settings, key: str, allowed: tuple[str, ...], default: str) -> str:
    value = (s.get(key, default=default) or default).strip().lower()
    if value and value not in allowed:
        raise s.source(key).error(f"{key} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _hosts(s: Settings, host: str, port: str) -> tuple[list[str], list[str]]:
    """libpq's host and port lists: one port for every host, or one port each, none twice."""
    hosts = [h.strip() for h in host.split(",")]
    ports = [p.strip() for p in port.split(",")]
    where_host, where_port = s.source("hostname", "dbhost"), s.source("port", "dbport")
    if "@" in host:  # user:password@host: never echoed
        raise where_host.error(
            "hostname: credentials (user:password@) are not supported here; set user and password"
        )
    if "" in hosts:
        raise where_host.error(f"hostname has an empty entry: {host!r}")
    for p in ports:
        if not p.isdigit() or not 1 <= int(p) <= 65535:
            raise where_port.error(f"port must be a number from 1 to 65535, got {p!r}")
    if len(ports) not in (1, len(hosts)):
        raise where_port.error(
            f"port lists {len(ports)} ports for {len(hosts)} hosts: give one port for all, "
            "or one per host"
        )
    seen: set[tuple[str, int]] = set()
    for h, p in zip(hosts, ports * len(hosts) if len(ports) == 1 else ports):
        if (h.lower(), int(p)) in seen:
            raise where_host.error(f"hostname lists {h}:{p} twice")
        seen.add((h.lower(), int(p)))
    return hosts, ports


def _url_hosts(url: URL) -> list[str]:
    """``host:port`` of each server a URL names (``?host=a&host=b:5433``, ``?port=``)."""
    if url.host:
        return [f"{url.host}:{url.port or 5432}"]
    given = url.query.get("host", "")
    hosts = list(given) if isinstance(given, tuple) else str(given).split(",")
    given = url.query.get("port", "")
    ports = list(given) if isinstance(given, tuple) else str(given).split(",")
    out = []
    for i, host in enumerate(h.strip() for h in hosts):
        name, sep, port = host.rpartition(":")
        if sep and port.isdigit() and not name.endswith(":"):  # host:port (not a bare IPv6)
            out.append(host)
            continue
        port = ports[i] if i < len(ports) else ports[0]
        out.append(f"{host}:{port.strip() or url.port or 5432}")
    return out


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
    if "target_session_attrs" in url.query:
        raise src.error(
            "target_session_attrs in the url: writes always connect with read-write when "
            "there are several hosts; say where reads go with read_from"
        )
    return url.set(drivername=_DRIVER)
