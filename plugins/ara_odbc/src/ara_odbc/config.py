"""``res_odbc.conf`` and ``res_config_odbc.conf``, read as Asterisk reads them.

The ``extconfig.conf`` database names a *class*: a section of ``res_odbc.conf`` other than
``[ENV]``, whose variables are set in the process environment (Asterisk's ``setenv``) when the
file is read. Settings given in code (``Realtime(drivers={"odbc": {class: {...}}})``) use the
same keys, override the file's, and are enough on their own (``dsn`` at least).

``dsn`` is a DSN name (``odbc.ini``), or a whole ODBC connection string when it holds a ``=``
(``Driver=PostgreSQL Unicode;Servername=db;Database=asterisk``; in a ``.conf`` file each ``;``
is written ``\\;``, as ``;`` starts a comment there). Several DSN names separated by commas
(``dsn => db-a, db-b``) are tried in order (see :mod:`ara_odbc.pool`): failover for DBMS whose
ODBC drivers have none of their own. A connection string is always one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ara_realtime.conf import Config
from ara_realtime.sql.sqla.settings import MODES, Source, parse_bool

__all__ = [
    "CONF_FILE",
    "KEYS",
    "RT_CONF_FILE",
    "ClassSettings",
    "connection_string",
    "read_config",
]

log = logging.getLogger(__name__)

CONF_FILE = "res_odbc.conf"
RT_CONF_FILE = "res_config_odbc.conf"

#: Asterisk's keys of a class section (``res/res_odbc.c``).
ASTERISK_KEYS = frozenset(
    {
        "enabled",
        "dsn",
        "username",
        "password",
        "pre-connect",
        "sanitysql",
        "max_connections",
        "backslash_is_escape",
        "connect_timeout",
        "negative_connection_cache",
        "forcecommit",
        "isolation",
        "logging",
        "slow_query_limit",
        "cache_type",
        "cache_size",
    }
)
#: Keys beyond Asterisk's.
OWN_KEYS = frozenset({"codec", "requirements", "pool_timeout", "pool_pre_ping", "query_timeout"})
KEYS = ASTERISK_KEYS | OWN_KEYS
#: Keys Asterisk only warns about (any key starting with ``share`` too).
LEGACY_KEYS = frozenset({"pooling", "limit", "idlecheck"})

ISOLATION = ("read_uncommitted", "read_committed", "repeatable_read", "serializable")
_CACHE_TYPES = {"stack": True, "rr": False, "roundrobin": False, "queue": False}


@dataclass(frozen=True)
class ClassSettings:
    """One connection class, every setting parsed and checked."""

    name: str
    dsn: str
    username: str | None = None
    password: str | None = None
    enabled: bool = True
    pre_connect: bool = False
    sanitysql: str = "select 1"
    max_connections: int = 1
    backslash_is_escape: bool = True
    connect_timeout: float = 10.0
    negative_connection_cache: float = 0.0
    forcecommit: bool = False
    #: ``None``: the driver's default (Asterisk always sets ``read_committed``).
    isolation: str | None = None
    logging: bool = False
    slow_query_limit: int = 5000
    #: Reuse the most recently released idle connection (``stack``) or the longest idle.
    lifo: bool = True
    cache_size: int = -1
    codec: bool = True
    requirements: str = "warn"
    pool_timeout: float = 5.0
    pool_pre_ping: float | None = 1.0
    #: Seconds one statement may wait for its answer (the core's watchdog cuts it then).
    query_timeout: float = 3.0
    #: ``res_config_odbc.conf`` ``[general]``; ``load_multi`` orders either way (the contract).
    order_multi_row_results_by_initial_column: bool = True
    #: Where the class section is (for messages).
    where: str = "<settings given in code>"

    def __repr__(self) -> str:  # the password and a connection string's secrets stay out
        return f"<ClassSettings {self.label}>"

    @property
    def dsns(self) -> tuple[str, ...]:
        """The DSN names listed (in order), or the one connection string."""
        if "=" in self.dsn:
            return (self.dsn,)
        return tuple(d.strip() for d in self.dsn.split(","))

    @property
    def label(self) -> str:
        """The class as messages name it: its name and DSNs (a connection string's safe keys)."""
        return f"odbc class {self.name!r} ({', '.join(describe_dsn(d) for d in self.dsns)})"


def describe_dsn(dsn: str) -> str:
    """``dsn NAME``, or the driver/server/database keys of a connection string (no secrets)."""
    if "=" not in dsn:
        return f"dsn {dsn}"
    shown = []
    for key, value in _pairs(dsn):
        if key.lower() in ("dsn", "driver", "server", "servername", "host", "port", "database"):
            shown.append(f"{key}={value}")
    return "; ".join(shown) or "connection string"


def _pairs(text: str) -> list[tuple[str, str]]:
    """``key=value`` pairs of an ODBC connection string (``{...}`` values may hold ``;``)."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        eq = text.find("=", i)
        if eq < 0:
            break
        key = text[i:eq].strip().strip(";").strip()
        j = eq + 1
        if j < n and text[j] == "{":
            end = j + 1
            while end < n:
                if text[end] == "}":
                    if end + 1 < n and text[end + 1] == "}":
                        end += 2
                        continue
                    break
                end += 1
            value = text[j + 1 : end].replace("}}", "}")
            i = text.find(";", end) + 1 or n
        else:
            semi = text.find(";", j)
            semi = n if semi < 0 else semi
            value = text[j:semi]
            i = semi + 1
        out.append((key, value.strip()))
    return out


def _braced(value: str) -> str:
    """A connection-string value, in ``{}`` (``}`` doubled) if it holds ``;``, braces or edge
    spaces (as ODBC quotes them; some driver managers take a braced DSN name literally)."""
    if any(c in value for c in ";{}") or value != value.strip():
        return "{" + value.replace("}", "}}") + "}"
    return value


def connection_string(
    s: ClassSettings, extra: Mapping[str, str] | None = None, *, dsn: str | None = None
) -> str:
    """The string ``SQLDriverConnect`` gets: the DSN (or the string given), user, password.

    ``dsn``: one of the class's DSNs (default: the first)."""
    dsn = s.dsns[0] if dsn is None else dsn
    parts = [dsn.rstrip(";")] if "=" in dsn else [f"DSN={_braced(dsn)}"]
    if s.username is not None:
        parts.append(f"UID={_braced(s.username)}")
    if s.password is not None:
        parts.append(f"PWD={_braced(s.password)}")
    parts += [f"{k}={v}" for k, v in (extra or {}).items()]
    return ";".join(parts)


def _number(key: str, value: str, src: Source, *, minimum: float, integer: bool) -> float:
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise src.error(f"{key} must be {kind}, got {value!r}") from None
    if number < minimum:
        raise src.error(f"{key} must be at least {minimum:g}, got {value!r}")
    return number


def _parse(
    name: str, values: Mapping[str, tuple[str, Source]], where: str, section: Source
) -> ClassSettings:
    out: dict[str, object] = {"name": name, "where": where}
    for key, (raw, src) in values.items():
        value = raw.strip()
        attr = key.replace("-", "_")
        if key in ("dsn", "username", "password", "sanitysql"):
            out[attr] = value
        elif key in (
            "enabled",
            "pre-connect",
            "backslash_is_escape",
            "forcecommit",
            "logging",
            "codec",
            "order_multi_row_results_by_initial_column",
        ):
            out[attr] = parse_bool(key, value, src)
        elif key == "max_connections":
            out[attr] = int(_number(key, value, src, minimum=1, integer=True))
        elif key == "cache_size":
            out[attr] = int(_number(key, value, src, minimum=-1, integer=True))
        elif key == "slow_query_limit":
            out[attr] = int(_number(key, value, src, minimum=0, integer=True))
        elif key in ("connect_timeout", "pool_timeout", "query_timeout"):
            out[attr] = _number(key, value, src, minimum=0.001, integer=False)
        elif key == "negative_connection_cache":
            out[attr] = _number(key, value, src, minimum=0, integer=False)
        elif key == "pool_pre_ping":
            lowered = value.lower()
            if lowered in ("no", "false", "off"):
                out[attr] = None
            elif lowered in ("yes", "true", "on"):
                out[attr] = 1.0
            else:
                out[attr] = _number(key, value, src, minimum=0, integer=False)
        elif key == "isolation":
            level = value.lower()
            if level not in ISOLATION:
                raise src.error(f"isolation must be one of {', '.join(ISOLATION)}, got {value!r}")
            out[attr] = level
        elif key == "cache_type":
            kind = value.lower()
            if kind not in _CACHE_TYPES:
                raise src.error(f"cache_type must be stack, rr, roundrobin or queue, got {value!r}")
            out["lifo"] = _CACHE_TYPES[kind]
        elif key == "requirements":
            mode = value.lower()
            if mode not in MODES:
                raise src.error(f"requirements must be one of {', '.join(MODES)}, got {value!r}")
            out[attr] = mode
    dsn = str(out.get("dsn", ""))
    if dsn and "=" not in dsn:
        names = [d.strip() for d in dsn.split(",")]
        if "" in names:
            raise values["dsn"][1].error(f"odbc class {name!r}: dsn lists an empty name: {dsn!r}")
        twice = next((d for i, d in enumerate(names) if d in names[:i]), None)
        if twice is not None:
            raise values["dsn"][1].error(f"odbc class {name!r}: dsn lists {twice!r} twice")
    if not out.get("dsn"):
        raise section.error(
            f"odbc class {name!r}: no dsn (in [{name}] of {CONF_FILE} or in code; "
            f"looked in {where})"
        )
    if out.get("sanitysql") == "":
        out["sanitysql"] = "select 1"
    return ClassSettings(**out)  # type: ignore[arg-type]


def _known(key: str, section: str, src: Source) -> bool:
    """True if ``key`` is read; a legacy key is warned about (as Asterisk does) and skipped."""
    if key in KEYS:
        return True
    if key in LEGACY_KEYS or key.startswith("share"):
        log.warning(
            "%s:%s: [%s]: %r is obsolete and ignored (as in Asterisk)",
            src.file,
            src.line,
            section,
            key,
        )
        return False
    raise src.error(f"[{section}]: unknown setting {key!r}; known: {', '.join(sorted(KEYS))}")


def read_config(name: str, code: Mapping[str, str], config_dir: Path | None) -> ClassSettings:
    """Class ``name`` of ``res_odbc.conf`` in ``config_dir`` (if any), overridden by ``code``.

    Reading the file also applies its ``[ENV]`` section to ``os.environ``.
    """
    values: dict[str, tuple[str, Source]] = {}
    where = "<settings given in code>"
    section = Source()
    if name.lower() == "env":
        raise Source().error("[ENV] of res_odbc.conf holds environment variables, not a class")
    if config_dir is not None:
        path = config_dir / CONF_FILE
        if path.exists():
            cfg = Config.from_file(path, config_dir=config_dir)
            for cat in cfg:
                if cat.name.lower() == "env":
                    for var in cat:
                        os.environ[var.name] = var.value.strip()
            if name in cfg:
                cat = cfg[name]
                where = f"{cat.file or path}:{cat.lineno}"
                section = Source(cat.file or str(path), cat.lineno)
                for var in cat:
                    src = Source(var.file or str(path), var.lineno)
                    key = var.name.strip().lower()
                    if _known(key, name, src):
                        values[key] = (var.value, src)
        rt_path = config_dir / RT_CONF_FILE
        if rt_path.exists():
            rt_cfg = Config.from_file(rt_path, config_dir=config_dir)
            for cat in rt_cfg:
                for var in cat:
                    src = Source(var.file or str(rt_path), var.lineno)
                    key = var.name.strip().lower()
                    if cat.name != "general" or key != "order_multi_row_results_by_initial_column":
                        raise src.error(
                            f"[{cat.name}]: unknown setting {var.name!r}; {RT_CONF_FILE} knows "
                            "only order_multi_row_results_by_initial_column in [general]"
                        )
                    values[key] = (var.value, src)
    for key, value in code.items():
        lowered = key.lower()
        if lowered not in KEYS and lowered != "order_multi_row_results_by_initial_column":
            raise Source().error(
                f"odbc class {name!r}: unknown setting {key!r}; known: {', '.join(sorted(KEYS))}"
            )
        values[lowered] = (value, Source())
    settings = _parse(name, values, where, section)
    if not settings.enabled:
        raise values.get("enabled", ("", section))[1].error(
            f"odbc class {name!r} is disabled (enabled = no)"
        )
    return settings
