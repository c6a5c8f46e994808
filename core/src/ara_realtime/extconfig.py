"""``extconfig.conf``: which driver, database and table serve each family or static file."""

from __future__ import annotations

import collections.abc as cabc
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from .conditions import check_identifier
from .conf import Config
from .errors import ConfigError, QueryError

__all__ = [
    "FORBIDDEN",
    "Mapping",
    "MappingsArg",
    "load_extconfig",
    "mappings_from",
    "parse_mapping",
]

log = logging.getLogger(__name__)

#: Files that can never be served by realtime (Asterisk needs them to start realtime).
FORBIDDEN = frozenset({"extconfig.conf", "asterisk.conf", "logger.conf"})


@dataclass(frozen=True)
class Mapping:
    """One ``name => driver,database[,table][,priority]`` line."""

    name: str
    driver: str
    database: str
    table: str
    priority: int = 1
    file: str | None = None
    line: int | None = None

    @property
    def is_static(self) -> bool:
        """True for a static-file mapping (``foo.conf``, or ``global``)."""
        return self.name == "global" or self.name.endswith(".conf")

    def error(self, message: str) -> ConfigError:
        """A ``ConfigError`` about this mapping, naming its file and line."""
        return ConfigError(f"mapping {self.name!r}: {message}", self.file, self.line)

    @property
    def where(self) -> str:
        """``file:line`` of the defining line, or ``"<code>"``."""
        if self.file is None:
            return "<code>"
        return f"{self.file}:{self.line}" if self.line is not None else self.file


#: What ``Realtime(mappings=...)`` accepts: ``Mapping`` objects, or a mapping of
#: name -> extconfig-style value (or several values, one per priority).
MappingsArg = cabc.Iterable[Mapping] | cabc.Mapping[str, str | cabc.Sequence[str]]


def _split(value: str) -> list[str]:
    """Split the right-hand side on commas; a ``"..."`` database may contain commas."""
    driver, sep, rest = value.partition(",")
    if not sep:
        return [driver]
    if '"' in rest:
        before, _, after = rest.partition('"')
        if before.strip():
            raise ValueError("text before the opening quote of the database")
        database, closed, tail = after.partition('"')
        if not closed:
            raise ValueError("unterminated quote in the database field")
        tail = tail.strip()
        if tail and not tail.startswith(","):
            raise ValueError("expected a comma after the quoted database")
        return [driver, database, *([p for p in tail[1:].split(",")] if tail else [])]
    return [driver, *rest.split(",")]


def parse_mapping(
    name: str, value: str, file: str | None = None, line: int | None = None
) -> list[Mapping]:
    """Parse one line's name and value; ``iaxfriends`` gives two mappings."""

    def fail(message: str) -> ConfigError:
        return ConfigError(f"mapping {name!r}: {message}", file, line)

    name = name.strip()
    if not name:
        raise fail("empty name")
    if name in FORBIDDEN:
        raise fail(f"{name} cannot be served by realtime")
    try:
        parts = [p.strip() for p in _split(value.strip())]
    except ValueError as exc:
        raise fail(str(exc)) from None
    if len(parts) < 2:
        raise fail(f"expected driver,database[,table][,priority], got {value.strip()!r}")
    if len(parts) > 4:
        raise fail(f"too many fields in {value.strip()!r}")
    driver, database = parts[0], parts[1]
    if not driver:
        raise fail("empty driver name")
    table = parts[2] if len(parts) > 2 else ""
    priority = 1
    if len(parts) > 3 and parts[3]:
        try:
            priority = int(parts[3])
        except ValueError:
            raise fail(f"priority must be a whole number, got {parts[3]!r}") from None
        if priority < 1:
            raise fail(f"priority must be 1 or more, got {priority}")
    if table:
        _check_table(table, fail)
    if name.lower() == "iaxfriends":
        log.warning("%s:%s: 'iaxfriends' is deprecated; map iaxusers and iaxpeers", file, line)
        return [
            Mapping(fam, driver, database, table or "iaxfriends", priority, file, line)
            for fam in ("iaxusers", "iaxpeers")
        ]
    return [Mapping(name, driver, database, table or name, priority, file, line)]


def _check_table(table: str, fail: cabc.Callable[[str], ConfigError]) -> None:
    """A table name is checked once, here: drivers quote it but never see an invalid one."""
    try:
        check_identifier(table, kind="table")
    except QueryError:
        raise fail(
            f"invalid table name {table!r}: use letters, digits and _ @ $ # - "
            "(and one '.' after a schema name)"
        ) from None


def check_mappings(mappings: cabc.Iterable[Mapping]) -> dict[str, list[Mapping]]:
    """Group by lower-cased name, sorted by priority; refuse duplicates, gaps, bad tables."""
    groups: dict[str, list[Mapping]] = {}
    for m in mappings:
        _check_table(m.table, m.error)
        group = groups.setdefault(m.name.lower(), [])
        for other in group:
            if other.priority == m.priority:
                raise ConfigError(
                    f"{m.name!r} is mapped twice with priority {m.priority}: "
                    f"{other.where} and {m.where}",
                    m.file,
                    m.line,
                )
        group.append(m)
    for group in groups.values():
        group.sort(key=lambda m: m.priority)
        for expected, m in enumerate(group, start=1):
            if m.priority != expected:
                raise ConfigError(
                    f"{m.name!r} has priority {m.priority} but no priority {expected}; "
                    "failover walks 1, 2, 3... without gaps",
                    m.file,
                    m.line,
                )
    return groups


def mappings_from(arg: MappingsArg) -> list[Mapping]:
    """Normalise the ``mappings=`` argument of ``Realtime``."""
    if isinstance(arg, cabc.Mapping):
        out: list[Mapping] = []
        for name, value in arg.items():
            values = [value] if isinstance(value, str) else list(value)
            for v in values:
                out.extend(parse_mapping(name, v))
        return out
    out = list(arg)
    for m in out:
        if not isinstance(m, Mapping):
            raise ConfigError(f"mappings must be Mapping objects, got {type(m).__name__}")
    return out


def load_extconfig(path: str | os.PathLike[str]) -> list[Mapping]:
    """Read the ``[settings]`` category of an ``extconfig.conf`` file."""
    path = Path(path)
    cfg = Config.from_file(path.name, config_dir=path.parent)
    out: list[Mapping] = []
    for cat in cfg:
        if cat.name != "settings":
            continue
        for var in cat:
            out.extend(parse_mapping(var.name, var.value, var.file or str(path), var.lineno))
    check_mappings(out)
    return out
