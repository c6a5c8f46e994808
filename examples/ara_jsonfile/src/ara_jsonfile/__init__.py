"""ara-jsonfile: an example third-party ara-realtime driver storing tables as JSON-lines files.

Map a family in ``extconfig.conf``::

    sippeers => jsonfile,pbx

and configure the database ``pbx`` in code (``Realtime(drivers={"jsonfile": {"pbx":
{"directory": "/var/lib/pbx"}}})``) or in ``res_config_jsonfile.conf``::

    [pbx]
    directory = /var/lib/pbx          ; one <table>.jsonl file per table
    requirements = createclose        ; warn (default) | createclose | createchar

The module itself is the driver: it is registered through the ``ara_realtime.drivers``
entry point ``jsonfile = "ara_jsonfile"`` and implements the hooks below.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ara_realtime import Capabilities, Config, ConfigError, hookimpl
from ara_realtime.conditions import Condition
from ara_realtime.datatypes import Requirement, Row, StaticRow

from ._storage import JsonFileStore

__all__ = ["CONF_FILE", "JsonFileStore", "connect"]

CONF_FILE = "res_config_jsonfile.conf"
_MODES = ("warn", "createclose", "createchar")
_KEYS = {"directory", "requirements"}

#: Everything, exact matching, code-point order, values stored as they are (no ^XX codec).
CAPABILITIES = Capabilities.full(
    require_create=True,
    notes={"require_create": "in the createclose/createchar modes (requirements setting)"},
)


def connect(
    database: str, settings: Mapping[str, str], config_dir: Path | None = None
) -> JsonFileStore:
    """Open database ``database``: settings from ``res_config_jsonfile.conf``, then code."""
    merged: dict[str, str] = {}
    if config_dir is not None and (config_dir / CONF_FILE).exists():
        cfg = Config.from_file(config_dir / CONF_FILE, config_dir=config_dir)
        if database in cfg:
            for var in cfg[database]:
                if var.name not in _KEYS:
                    raise ConfigError(
                        f"[{database}]: unknown setting {var.name!r}; known: "
                        f"{', '.join(sorted(_KEYS))}",
                        var.file,
                        var.lineno,
                    )
                merged[var.name] = var.value
    merged.update(settings)
    directory = merged.get("directory", "").strip()
    if not directory:
        raise ConfigError(f"jsonfile database {database!r}: no 'directory' set")
    path = Path(directory)
    if not path.is_absolute() and config_dir is not None:
        path = config_dir / path
    mode = merged.get("requirements", "warn").strip().lower()
    if mode not in _MODES:
        raise ConfigError(
            f"jsonfile database {database!r}: requirements must be one of "
            f"{', '.join(_MODES)}, got {mode!r}"
        )
    return JsonFileStore(path, mode=mode)


@hookimpl
def ara_capabilities() -> Capabilities:
    return CAPABILITIES


@hookimpl
def ara_connect(
    database: str, settings: Mapping[str, str], config_dir: Path | None
) -> JsonFileStore:
    return connect(database, settings, config_dir)


@hookimpl
def ara_load(
    connection: JsonFileStore, family: str, table: str, conditions: tuple[Condition, ...]
) -> Row | None:
    return connection.load(family, table, conditions)


@hookimpl
def ara_load_multi(
    connection: JsonFileStore, family: str, table: str, conditions: tuple[Condition, ...]
) -> list[Row]:
    return connection.load_multi(family, table, conditions)


@hookimpl
def ara_update(
    connection: JsonFileStore,
    family: str,
    table: str,
    key: Condition,
    values: tuple[tuple[str, str], ...],
) -> int:
    return connection.update(family, table, (key,), values)


@hookimpl
def ara_update2(
    connection: JsonFileStore,
    family: str,
    table: str,
    conditions: tuple[Condition, ...],
    values: tuple[tuple[str, str], ...],
) -> int:
    return connection.update(family, table, conditions, values)


@hookimpl
def ara_store(
    connection: JsonFileStore, family: str, table: str, values: tuple[tuple[str, str], ...]
) -> int:
    return connection.store(family, table, values)


@hookimpl
def ara_destroy(
    connection: JsonFileStore, family: str, table: str, conditions: tuple[Condition, ...]
) -> int:
    return connection.destroy(family, table, conditions)


@hookimpl
def ara_require(
    connection: JsonFileStore, family: str, table: str, columns: Mapping[str, Requirement]
) -> bool:
    return connection.require(family, table, columns)


@hookimpl
def ara_unload() -> bool:
    return False  # nothing is cached: every call reads the file


@hookimpl
def ara_load_static(connection: JsonFileStore, table: str, filename: str) -> list[StaticRow]:
    return connection.load_static(table, filename)
