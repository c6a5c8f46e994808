"""``res_ldap.conf``: Asterisk's settings and table sections, plus what Asterisk lacks.

``[_general]`` holds the connection (``url``, or ``host``/``port``; ``user``, ``pass``,
``version``/``protocol``, ``basedn``) and ara-ldap's own keys (TLS, timeouts, pool). ``url``
may list several servers separated by spaces or commas (as OpenLDAP's ``ldap_initialize``
takes them): requests go to the first that answers. ``write_url`` (ara-ldap's) names where
writes go, e.g. a replica's provider; without it they go where reads go and a referral to
another listed server is followed. Any other
``[_general]`` key is, as in Asterisk, an ``asterisk_name = ldapAttribute`` mapping for every
table, and its ``additionalFilter`` is added to every table's filter. Every other section is
a table: mappings in order, ``additionalFilter``, and for ``store`` the ``objectClasses`` and
``rdnAttribute`` of new entries (ara-ldap's keys; Asterisk has no ``store``). ``[config]`` is
the static-configuration table when the mapped table has no section of its own.

Settings given in code override ``[_general]`` keys; ``"<section>.<key>"`` sets a key of any
section (``{"sippeers.name": "cn"}``). An unknown plain key given in code is a ``ConfigError``
(a misspelt setting would otherwise become a mapping).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ara_realtime import Config, ConfigError

__all__ = [
    "CONF_FILE",
    "GENERAL_KEYS",
    "Settings",
    "TableSection",
    "check_attribute",
    "check_filter",
    "read_settings",
]

CONF_FILE = "res_ldap.conf"
GENERAL = "_general"
STATIC_SECTION = "config"

#: Keys of ``[_general]`` that are settings, not mappings (lower case).
GENERAL_KEYS = frozenset(
    {
        "url",
        "write_url",
        "host",
        "port",
        "user",
        "pass",
        "version",
        "protocol",
        "basedn",
        "starttls",
        "cafile",
        "tls_verify",
        "connect_timeout",
        "bind_timeout",
        "timeout",
        "pool_size",
        "pool_timeout",
        "retries",
        "page_size",
        "max_request_size",
    }
)
#: Keys of a table section that are not mappings (lower case -> canonical spelling).
TABLE_KEYS = {
    "additionalfilter": "additionalFilter",
    "objectclasses": "objectClasses",
    "rdnattribute": "rdnAttribute",
}

_ATTRIBUTE = re.compile(r"(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)")
_TRUE = {"yes", "true", "on", "1"}
_FALSE = {"no", "false", "off", "0"}


@dataclass(frozen=True)
class Where:
    """Where a value came from: ``file:line`` or code."""

    file: str | None = None
    line: int | None = None

    def error(self, message: str) -> ConfigError:
        return ConfigError(message, self.file, self.line)


_CODE = Where()


def check_attribute(name: str, where: Where = _CODE) -> str:
    """An LDAP attribute type name or numeric OID, else a ``ConfigError``."""
    if not _ATTRIBUTE.fullmatch(name):
        raise where.error(f"{name!r} is not an LDAP attribute name")
    return name


def check_filter(text: str, where: Where = _CODE) -> str:
    """A parenthesised LDAP filter that ldap3 can parse, else a ``ConfigError``."""
    from ldap3.core.exceptions import LDAPException  # noqa: PLC0415
    from ldap3.operation.search import parse_filter  # noqa: PLC0415

    text = text.strip()
    if not (text.startswith("(") and text.endswith(")")):
        raise where.error(f"additionalFilter must be a parenthesised LDAP filter, got {text!r}")
    try:
        parse_filter(text, None, True, True, None, False)  # type: ignore[no-untyped-call]
    except (LDAPException, ValueError, IndexError) as exc:
        raise where.error(f"additionalFilter {text!r} is not a valid LDAP filter: {exc}") from None
    return text


@dataclass
class TableSection:
    """One table section: mappings (column -> attribute) in order and the table keys."""

    name: str
    mappings: list[tuple[str, str]] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)
    object_classes: list[str] = field(default_factory=list)
    rdn_attribute: str | None = None

    def set(self, key: str, value: str, where: Where) -> None:
        special = TABLE_KEYS.get(key.lower())
        value = value.strip()
        if special == "additionalFilter":
            self.filters.append(check_filter(value, where))
        elif special == "objectClasses":
            for oc in re.split(r"[\s,]+", value):
                if oc:
                    self.object_classes.append(check_attribute(oc, where))
        elif special == "rdnAttribute":
            self.rdn_attribute = check_attribute(value, where)
        else:
            if not re.fullmatch(r"[\w@$#][\w@$#-]*", key):
                raise where.error(f"[{self.name}]: {key!r} is not a column name")
            self.mappings.append((key, check_attribute(value, where)))


@dataclass(frozen=True)
class Settings:
    """The connection settings of one database (base DN), and its table sections.

    ``urls``: the servers, tried in order; ``url``: them as one text (for labels).
    ``write_urls``: where writes go (empty: where reads go).
    """

    url: str
    urls: tuple[str, ...]
    write_urls: tuple[str, ...]
    user: str | None
    password: str | None
    basedn: str
    starttls: bool
    cafile: str | None
    tls_verify: bool
    connect_timeout: float
    bind_timeout: float
    timeout: float
    pool_size: int
    pool_timeout: float
    retries: int
    page_size: int
    #: Bytes one request may take: slapd drops a connection that sends more.
    max_request_size: int
    general: TableSection
    sections: Mapping[str, TableSection]

    def __repr__(self) -> str:  # the password is never shown
        return f"<ldap Settings {self.url} user={self.user!r}>"


def _number(key: str, text: str, where: Where, *, integer: bool, low: float) -> float:
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        raise where.error(f"{key} must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < low:
        raise where.error(f"{key} must be at least {low:g}, got {text!r}")
    return value


def _bool(key: str, text: str, where: Where) -> bool:
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise where.error(f"{key} must be yes or no, got {text!r}")


def read_settings(database: str, code: Mapping[str, str], config_dir: Path | None) -> Settings:
    """``[_general]`` and table sections from ``res_ldap.conf`` in ``config_dir``, then code."""
    general: dict[str, tuple[str, Where]] = {}
    sections: dict[str, TableSection] = {}
    gen = TableSection(GENERAL)
    path = config_dir / CONF_FILE if config_dir is not None else None
    if path is not None and path.exists():
        cfg = Config.from_file(path, config_dir=config_dir)
        for cat in cfg:
            if cat.name == GENERAL:
                for var in cat:
                    where = Where(var.file, var.lineno)
                    if var.name.lower() in GENERAL_KEYS:
                        general[var.name.lower()] = (var.value.strip(), where)
                    else:
                        gen.set(var.name, var.value, where)
            else:
                section = sections.setdefault(cat.name, TableSection(cat.name))
                for var in cat:
                    section.set(var.name, var.value, Where(var.file, var.lineno))
    for key, value in code.items():
        if not isinstance(value, str):
            raise ConfigError(f"ldap database {database!r}: setting {key!r} must be a str")
        name, dot, sub = key.rpartition(".")
        if dot:
            if name == GENERAL:
                if sub.lower() in GENERAL_KEYS:
                    general[sub.lower()] = (value.strip(), _CODE)
                else:
                    gen.set(sub, value, _CODE)
            else:
                sections.setdefault(name, TableSection(name)).set(sub, value, _CODE)
        elif key.lower() in GENERAL_KEYS:
            general[key.lower()] = (value.strip(), _CODE)
        else:
            raise ConfigError(
                f"ldap database {database!r}: unknown setting {key!r}; known: "
                f"{', '.join(sorted(GENERAL_KEYS))}, or '<section>.<key>' for a table section"
            )
    return _settings(database, general, gen, sections)


def _settings(
    database: str,
    general: Mapping[str, tuple[str, Where]],
    gen: TableSection,
    sections: dict[str, TableSection],
) -> Settings:
    def get(key: str, default: str | None = None) -> str | None:
        found = general.get(key)
        return found[0] if found is not None else default

    def where(key: str) -> Where:
        found = general.get(key)
        return found[1] if found is not None else _CODE

    url = get("url")
    if url:
        urls = _urls("url", url, where("url"))
    else:
        host = get("host") or "localhost"
        port = get("port", "389") or "389"
        if "@" in host:  # user:password@host: never echoed
            raise where("host").error(
                "host: credentials (user:password@) are not supported; set them with user and pass"
            )
        _number("port", port, where("port"), integer=True, low=1)
        _check_host_port(f"{host}:{port}", where("host"), "host")
        urls = [f"ldap://{host}:{port}"]
    url = " ".join(urls)
    write_url = get("write_url")
    write_urls = _urls("write_url", write_url, where("write_url")) if write_url else []
    version = get("version") or get("protocol") or "3"
    if version.strip() != "3":
        key = "version" if "version" in general else "protocol"
        raise where(key).error(f"ara-ldap speaks LDAP version 3 only, got {version!r}")
    user = get("user") or None
    password = get("pass")
    if user is not None and password is None:
        password = "asterisk"  # noqa: S105  (Asterisk's default when a user is given)
    starttls = _bool("starttls", get("starttls", "no") or "no", where("starttls"))
    if starttls and any(u.startswith("ldaps://") for u in (*urls, *write_urls)):
        raise where("starttls").error("starttls = yes needs an ldap:// url, not ldaps://")
    cafile = get("cafile") or None
    if cafile is not None and not Path(cafile).is_file():
        raise where("cafile").error(f"cafile {cafile!r} is not a readable file")
    timeout = _number(
        "timeout", get("timeout", "10") or "10", where("timeout"), integer=False, low=0.01
    )
    return Settings(
        url=url,
        urls=tuple(urls),
        write_urls=tuple(write_urls),
        user=user,
        password=password,
        basedn=get("basedn", "") or "",
        starttls=starttls,
        cafile=cafile,
        tls_verify=_bool("tls_verify", get("tls_verify", "yes") or "yes", where("tls_verify")),
        connect_timeout=_number(
            "connect_timeout",
            get("connect_timeout", "5") or "5",
            where("connect_timeout"),
            integer=False,
            low=0.01,
        ),
        bind_timeout=_number(
            "bind_timeout",
            get("bind_timeout", "5") or "5",
            where("bind_timeout"),
            integer=False,
            low=0.01,
        ),
        timeout=timeout,
        pool_size=int(
            _number(
                "pool_size", get("pool_size", "4") or "4", where("pool_size"), integer=True, low=1
            )
        ),
        pool_timeout=_number(
            "pool_timeout",
            get("pool_timeout") or str(timeout),
            where("pool_timeout"),
            integer=False,
            low=0,
        ),
        retries=int(
            _number("retries", get("retries", "2") or "2", where("retries"), integer=True, low=0)
        ),
        page_size=int(
            _number(
                "page_size",
                get("page_size", "500") or "500",
                where("page_size"),
                integer=True,
                low=1,
            )
        ),
        # OpenLDAP's default sockbuf_max_incoming_auth (bytes a bound client may send at once)
        max_request_size=int(
            _number(
                "max_request_size",
                get("max_request_size", "4194303") or "4194303",
                where("max_request_size"),
                integer=True,
                low=1024,
            )
        ),
        general=gen,
        sections=sections,
    )


def _check_host_port(netloc: str, where: Where, key: str) -> None:
    """A host and port ldap3 will take (it raises its own exceptions otherwise)."""
    host, sep, port = netloc.rpartition(":") if not netloc.endswith("]") else (netloc, "", "")
    if not sep:
        host, port = netloc, "389"
    if not host or (":" in host.strip("[]") and not host.startswith("[")):
        raise where.error(f"{key}: {netloc!r} is not host[:port]")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise where.error(f"{key}: the port must be a number from 1 to 65535, got {port!r}")


def _split_urls(key: str, text: str, where: Where) -> list[str]:
    """The URLs of ``text``, separated by spaces or commas.

    A comma or space ends a URL only where the next one starts (``scheme://``), so a URL
    with a DN in its path stays whole and its message names all of it.
    """
    if re.search(r"(^|,)\s*(,|$)", text.strip()):  # the text may hold a password: not shown
        raise where.error(f"{key} has an empty entry (two commas in a row, or one at an end)")
    return [u.rstrip("/") for u in re.split(r"(?:\s*,\s*|\s+)(?=[^\s,/]*://)", text.strip())]


def _urls(key: str, text: str, where: Where) -> list[str]:
    """One or several ``ldap://host[:port]``/``ldaps://`` URLs, in order, none twice."""
    if not text.strip():
        raise where.error(f"{key} is empty")
    if "@" in text:  # user:password@ is never echoed, not even in part
        raise where.error(
            f"{key}: credentials in the URL (user:password@) are not supported; "
            "set them with user and pass"
        )
    out: list[str] = []
    for url in _split_urls(key, text, where):  # ldap3 refuses ldap://host:port/ (trailing slash)
        if re.fullmatch(r"ldaps?://[^/\s,]+/.*", url, re.DOTALL):
            raise where.error(
                f"{key}: {url!r} is not ldap://host[:port]: a URL here names a server only "
                "(the base DN is the extconfig database or basedn)"
            )
        if not re.fullmatch(r"ldaps?://[^/\s,]+", url):
            raise where.error(f"{key} must be ldap://host[:port] or ldaps://..., got {url!r}")
        if url in out:
            raise where.error(f"{key} lists {url!r} twice")
        _check_host_port(url.split("://", 1)[1], where, key)
        out.append(url)
    return out


def base_dn(database: str) -> str:
    """The extconfig database as a base DN: one pair of quotes removed, ``|`` for ``,``."""
    text = database.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text.replace("|", ",")
