"""Settings every SQLAlchemy-based driver shares, parsed from ``key = value`` text."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from ...conf import Config
from ...errors import ConfigError

__all__ = [
    "COMMON_KEYS",
    "MODES",
    "CommonSettings",
    "ConnectSpec",
    "Settings",
    "Source",
    "parse_bool",
    "read_settings",
]

#: ``requirements`` values (Asterisk's).
MODES = ("warn", "createclose", "createchar")

#: Keys every SQLAlchemy-based driver accepts besides its own.
COMMON_KEYS = frozenset(
    {
        "url",
        "requirements",
        "codec",
        "pool_size",
        "pool_overflow",
        "pool_timeout",
        "pool_pre_ping",
        "pool_recycle",
        "connect_timeout",
        "query_timeout",
    }
)

_TRUE = {"yes", "true", "on", "1", "y", "t"}
_FALSE = {"no", "false", "off", "0", "n", "f"}


@dataclass(frozen=True)
class Source:
    """Where one setting came from: a file and line, or code."""

    file: str | None = None
    line: int | None = None

    def error(self, message: str) -> ConfigError:
        return ConfigError(message, self.file or "<settings given in code>", self.line)


def parse_bool(key: str, value: str, where: Source) -> bool:
    """Asterisk-style booleans (``yes``/``no``, ``true``/``false``, ``on``/``off``, ``1``/``0``)."""
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise where.error(f"{key} must be yes or no, got {value!r}")


def _number(key: str, value: str, where: Source, *, minimum: float, integer: bool) -> float:
    try:
        number = int(value) if integer else float(value)
        if not math.isfinite(number):  # inf would switch a timeout off, nan every check
            raise ValueError(value)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise where.error(f"{key} must be {kind}, got {value!r}") from None
    if number < minimum:
        raise where.error(f"{key} must be at least {minimum:g}, got {value!r}")
    return number


@dataclass(frozen=True)
class CommonSettings:
    """Pool, codec and ``require`` behaviour of one database."""

    requirements: str = "warn"
    codec: bool = True
    pool_size: int = 10
    pool_overflow: int = 10
    pool_timeout: float = 5.0
    #: Ping a connection idle this many seconds before reusing it (``None``: never).
    pool_pre_ping: float | None = 1.0
    #: Replace connections older than this many seconds (``-1``: never).
    pool_recycle: int = 3600
    #: Seconds a new connection may take (whole seconds: the client libraries count so).
    connect_timeout: int = 5
    #: Seconds one call on an open connection may wait for the server (then it is closed).
    query_timeout: float = 3.0

    @classmethod
    def parse(cls, values: Mapping[str, str], where: Mapping[str, Source]) -> CommonSettings:
        """Read the common keys of ``values`` (``where`` tells the source of each key)."""
        out: dict[str, Any] = {}
        for key, value in values.items():
            src = where.get(key, Source())
            if key == "requirements":
                mode = value.strip().lower()
                if mode not in MODES:
                    raise src.error(
                        f"requirements must be one of {', '.join(MODES)}, got {value!r}"
                    )
                out[key] = mode
            elif key == "codec":
                out[key] = parse_bool(key, value, src)
            elif key == "pool_size":
                out[key] = int(_number(key, value, src, minimum=1, integer=True))
            elif key == "pool_overflow":
                out[key] = int(_number(key, value, src, minimum=0, integer=True))
            elif key == "pool_timeout":
                out[key] = _number(key, value, src, minimum=0.001, integer=False)
            elif key == "connect_timeout":
                out[key] = int(_number(key, value, src, minimum=1, integer=True))
            elif key == "query_timeout":
                out[key] = _number(key, value, src, minimum=0.1, integer=False)
            elif key == "pool_recycle":
                out[key] = int(_number(key, value, src, minimum=-1, integer=True))
            elif key == "pool_pre_ping":
                text = value.strip().lower()
                if text in _TRUE:
                    out[key] = 1.0
                elif text in _FALSE:
                    out[key] = None
                else:
                    out[key] = _number(key, value, src, minimum=0, integer=False)
        return cls(**out)


@dataclass
class ConnectSpec:
    """Everything needed to open one database: URL, DB-API arguments, settings, a label.

    ``label`` names the database for messages (driver, section, host, port, dbname; never a
    password): errors of this spec's connections carry it. ``write`` is the separate spec of
    writes (a ``read/write`` section pair, reads from standbys), if any; ``whole`` then names
    both sides at once (``realtime status``, reprs).
    """

    url: URL
    label: str
    settings: CommonSettings
    connect_args: dict[str, Any] = field(default_factory=dict)
    write: ConnectSpec | None = None
    #: Driver-specific options (psycopg: ``prepare``; MySQL: the server flavour).
    options: dict[str, Any] = field(default_factory=dict)
    #: Where the connection options come from (the ``url`` line, or the section).
    source: Source = field(default_factory=Source)
    #: The label of reads and writes together (default: ``label``).
    whole: str = ""

    def __repr__(self) -> str:  # the URL holds the password: never shown
        return f"<ConnectSpec {self.label}>"


@dataclass
class Settings:
    """Merged ``key -> value`` settings of one database, with where each came from."""

    values: dict[str, str] = field(default_factory=dict)
    where: dict[str, Source] = field(default_factory=dict)
    #: The file read, if any (for messages).
    file: str | None = None

    def get(self, *keys: str, default: str | None = None) -> str | None:
        """The value of the first of ``keys`` that is set (aliases: ``hostname``, ``dbhost``)."""
        for key in keys:
            value = self.values.get(key)
            if value is not None:
                return value
        return default

    def source(self, *keys: str) -> Source:
        for key in keys:
            if key in self.where:
                return self.where[key]
        return Source(self.file)


def read_settings(
    config_dir: Path | None,
    files: Sequence[str],
    sections: Sequence[str],
    known: frozenset[str],
    code: Mapping[str, str],
) -> Settings:
    """Merge ``sections`` (later ones win) of the first of ``files`` found, then ``code``.

    Every key must be in ``known``; an unknown one is a ``ConfigError`` naming file and line.
    """
    out = Settings()
    if config_dir is not None:
        for name in files:
            path = config_dir / name
            if path.exists():
                cfg = Config.from_file(name, config_dir=config_dir)
                out.file = str(path)
                for section in sections:
                    if section not in cfg:
                        continue
                    for var in cfg[section]:
                        src = Source(var.file or str(path), var.lineno)
                        if var.name not in known:
                            raise src.error(
                                f"[{section}]: unknown setting {var.name!r}; known: "
                                f"{', '.join(sorted(known))}"
                            )
                        out.values[var.name] = var.value.strip()
                        out.where[var.name] = src
                break
    for key, value in code.items():
        if key not in known:
            raise Source().error(f"unknown setting {key!r}; known: {', '.join(sorted(known))}")
        out.values[key] = value
        out.where[key] = Source()
    return out
