"""Create the families' tables through a ``Realtime``'s mappings, and compare live tables with
:mod:`ara_realtime.schema` (``realtime schema --create`` / ``--check``).

Each family is looked up in ``extconfig.conf``: every mapping of it (every priority) names a
driver, a database and a table, and the table is made there under the mapping's table name
(``sippeers => pgsql,main,sip_peers`` creates ``sip_peers`` with ``sippeers``' columns). A
static file's mapping (``extensions.conf``, ``global``) gets the static-configuration table.

How a backend is reached depends on its driver:

* SQL drivers: through SQLAlchemy, on the driver's own engine (``pgsql``, ``mysql``) or on the
  database file (``sqlite3``): ``CREATE TYPE``/``CREATE TABLE``/``CREATE INDEX`` exactly as
  :func:`~ara_realtime.schema.ddl.render` prints them, and alembic's comparison for ``check``;
* drivers without SQL that create tables through ``require`` (``memory``): ``require`` with
  each column's ``RQ_*`` type; ``check`` is not available there;
* any other driver: :class:`~ara_realtime.errors.NotSupported`.

A backend is opened with its driver's ``ara_connect``, as the ``Realtime`` would, and closed
again afterwards.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy
from sqlalchemy import MetaData, Table, types

from ..datatypes import RQ, Requirement
from ..drivers.sqlite3 import SQLiteConnection
from ..errors import BackendError, ConfigError, NotSupported
from ..extconfig import Mapping
from ..realtime import Realtime
from ..sql.sqla.connection import SQLAlchemyConnection
from . import ALIASES, FAMILIES, is_static, table_for, tables_for

__all__ = ["Difference", "Outcome", "check", "create", "requirements_of"]


@dataclass(frozen=True)
class Outcome:
    """What ``create`` did with one family's table on one backend."""

    family: str
    backend: str
    table: str
    #: ``created``, ``exists`` (left as it is: see ``check``) or ``created by require``
    action: str


@dataclass(frozen=True)
class Difference:
    """One way a live table differs from its definition."""

    family: str
    backend: str
    table: str
    #: the column, index or constraint concerned ("" for the table itself)
    item: str
    problem: str

    def __str__(self) -> str:
        where = f"{self.table}.{self.item}" if self.item else self.table
        return f"{self.backend}: {where} ({self.family}): {self.problem}"


# -- targets --------------------------------------------------------------------------------


def _mappings(rt: Realtime, families: Sequence[str]) -> list[Mapping]:
    """Every mapping of each family (all priorities), in the order asked; ``ConfigError`` for
    a family without a mapping or without a table definition."""
    if not families:
        raise ConfigError("name at least one family (or NAME.conf for a static file)")
    out: list[Mapping] = []
    for family in families:
        table_for(family)  # a known family, or ConfigError
        found = [m for m in rt.mappings if m.name.lower() == family.lower()]
        if not found:  # iaxfriends: extconfig's iaxfriends line maps iaxusers and iaxpeers
            aliases = {a for a, f in ALIASES.items() if f == family.lower()}
            found = [m for m in rt.mappings if m.name.lower() in aliases]
        if not found and is_static(family):
            found = [m for m in rt.mappings if m.name.lower() == "global"]
        if not found:
            raise ConfigError(f"family {family!r} is not mapped in extconfig.conf")
        out.extend(found)
    return out


def _by_backend(mappings: Iterable[Mapping]) -> dict[tuple[str, str], list[Mapping]]:
    groups: dict[tuple[str, str], list[Mapping]] = {}
    for m in mappings:
        group = groups.setdefault((m.driver, m.database), [])
        if all(o.table != m.table for o in group):  # iaxusers and iaxpeers share one table
            group.append(m)
    return groups


@contextlib.contextmanager
def _connection(rt: Realtime, mapping: Mapping) -> Iterator[Any]:
    """The backend of ``mapping`` opened by its driver, as the ``Realtime`` opens it."""
    hooks = rt.plugins.hooks(mapping.driver)
    if hooks.connect is None:
        raise ConfigError(f"driver {mapping.driver!r} has no ara_connect")
    # settings given in code to Realtime(drivers=...) for this database, if any
    settings = getattr(rt, "_driver_settings", {}).get(mapping.driver, {}).get(mapping.database, {})
    conn = hooks.connect(mapping.database, settings, rt.config_dir)
    try:
        yield conn
    finally:
        if hooks.close is not None:
            hooks.close(conn)


@contextlib.contextmanager
def _engine(conn: Any, label: str) -> Iterator[sqlalchemy.Engine | None]:
    """An SQLAlchemy engine on the connection's database, or ``None`` for a driver without SQL."""
    if isinstance(conn, SQLAlchemyConnection):
        yield conn.writer.engine  # the driver's own: disposed when the connection closes
        return
    if isinstance(conn, SQLiteConnection):
        if conn.path == ":memory:":
            raise ConfigError(f"{label}: an in-memory sqlite3 database holds no tables to create")
        engine = sqlalchemy.create_engine(
            f"sqlite:///{conn.path}",
            connect_args={"timeout": conn.timeout},
            poolclass=sqlalchemy.pool.NullPool,
        )
        try:
            yield engine
        finally:
            engine.dispose()
        return
    yield None


def _label(m: Mapping) -> str:
    return f"{m.driver}:{m.database}"


def _refer(rt: Realtime, mapping: Mapping) -> dict[str, str]:
    """Family -> table of every known family mapped on ``mapping``'s backend (a foreign key
    points at the table its target family really has there)."""
    return {
        m.name: m.table
        for m in rt.mappings
        if (m.driver, m.database) == (mapping.driver, mapping.database)
        and not is_static(m.name)
        and (m.name.lower() in FAMILIES or m.name.lower() in ALIASES)
    }


def _metadata(rt: Realtime, group: list[Mapping]) -> tuple[MetaData, list[Table]]:
    return tables_for({m.name: m.table for m in group}, _refer(rt, group[0]))


@contextlib.contextmanager
def _translated(label: str) -> Iterator[None]:
    """SQLAlchemy's errors as the API's: a refused statement is the caller's problem."""
    try:
        yield
    except sqlalchemy.exc.OperationalError as exc:
        raise BackendError(f"{label}: {exc.orig if exc.orig is not None else exc}") from None
    except sqlalchemy.exc.DBAPIError as exc:
        raise ConfigError(f"{label}: {exc.orig if exc.orig is not None else exc}") from None
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise ConfigError(f"{label}: {exc}") from None


# -- create ---------------------------------------------------------------------------------


def create(rt: Realtime, families: Sequence[str]) -> list[Outcome]:
    """Create each family's table on every backend that maps it; existing tables are left
    as they are (``action == "exists"``: compare them with :func:`check`)."""
    out: list[Outcome] = []
    for (driver, database), group in _by_backend(_mappings(rt, families)).items():
        label = f"{driver}:{database}"
        with _connection(rt, group[0]) as conn, _engine(conn, label) as engine:
            if engine is None:
                out.extend(_create_by_require(rt, conn, group, label))
                continue
            md, tables = _metadata(rt, group)
            with _translated(label), engine.connect() as c:
                insp = sqlalchemy.inspect(c)
                existing = {t.name for t in tables if insp.has_table(t.name, schema=t.schema)}
            with _translated(label), engine.begin() as c:
                md.create_all(c, tables=tables, checkfirst=True)
            for m, t in zip(group, tables):
                action = "exists" if t.name in existing else "created"
                out.append(Outcome(m.name, label, m.table, action))
    return out


def _create_by_require(rt: Realtime, conn: Any, group: list[Mapping], label: str) -> list[Outcome]:
    hooks = rt.plugins.hooks(group[0].driver)
    require = hooks.get("require")
    caps = hooks.capabilities(conn) if hooks.capabilities is not None else None
    if require is None or caps is None or not caps.require_create:
        raise NotSupported(
            f"{label}: driver {group[0].driver!r} can neither run DDL nor create tables "
            "through require; create the tables with its own tools"
        )
    out = []
    for m in group:
        ok = require(conn, m.name, m.table, requirements_of(table_for(m.name)))
        if not ok:
            raise ConfigError(f"{label}: require could not create table {m.table!r}")
        out.append(Outcome(m.name, label, m.table, "created by require"))
    return out


def requirements_of(table: Table) -> dict[str, Requirement]:
    """The table's columns as ``require`` types (for drivers that create through it)."""
    out: dict[str, Requirement] = {}
    for col in table.columns:
        t = col.type
        if isinstance(t, types.Enum):
            out[col.name] = Requirement(RQ.CHAR, max(len(e) for e in t.enums))
        elif isinstance(t, types.String):
            out[col.name] = Requirement(RQ.CHAR, t.length or 0)
        elif isinstance(t, types.SmallInteger):
            out[col.name] = Requirement(RQ.INTEGER2, 6)
        elif isinstance(t, types.BigInteger):
            out[col.name] = Requirement(RQ.INTEGER8, 20)
        elif isinstance(t, types.Integer):
            out[col.name] = Requirement(RQ.INTEGER4, 11)
        elif isinstance(t, (types.Float, types.Numeric)):
            out[col.name] = Requirement(RQ.FLOAT, 0)
        elif isinstance(t, types.DateTime):
            out[col.name] = Requirement(RQ.DATETIME, 19)
        else:  # Text, LargeBinary, Boolean: text as far as require goes
            out[col.name] = Requirement(RQ.CHAR, 0)
    return out


# -- check ----------------------------------------------------------------------------------


def check(rt: Realtime, families: Sequence[str]) -> list[Difference]:
    """How each family's live table differs from its definition, on every backend that maps
    it (alembic's comparison: tables, columns, types, NULL, indexes, unique and foreign keys).
    An empty list: every table is as defined."""
    from alembic.autogenerate import compare_metadata  # noqa: PLC0415
    from alembic.migration import MigrationContext  # noqa: PLC0415

    out: list[Difference] = []
    for (driver, database), group in _by_backend(_mappings(rt, families)).items():
        label = f"{driver}:{database}"
        with _connection(rt, group[0]) as conn, _engine(conn, label) as engine:
            if engine is None:
                raise NotSupported(
                    f"{label}: driver {driver!r} has no SQL catalogue to compare with; "
                    "use realtime require-style checks instead"
                )
            md, tables = _metadata(rt, group)
            wanted = {t.name for t in tables}
            families_of = {t.name: m.name for m, t in zip(group, tables)}

            include_name = functools.partial(_include_name, wanted)
            for table in list(md.tables.values()):
                if table.name not in wanted:  # a stub for a foreign key's target
                    md.remove(table)
            with _translated(label), engine.connect() as c:
                ctx = MigrationContext.configure(
                    c, opts={"compare_type": _compare_type, "include_name": include_name}
                )
                diffs = compare_metadata(ctx, md)
            flat = list(_flatten(diffs))
            missing = {d[1].name for d in flat if d[0] == "add_table"}
            for diff in flat:
                if _redundant(diff, md) or _of_missing(diff, missing):
                    continue
                out.append(_describe(diff, families_of, label, engine.dialect))
    return out


def _compare_type(
    context: Any, inspected: Any, defined: Any, live_type: Any, wanted_type: Any
) -> bool | None:
    """Two enum types differ when their names differ (PostgreSQL's named types) or their
    labels do (as sets: MySQL's inline lists, whose order alembic ignores too); anything
    else is alembic's comparison (``None``). Alembic alone compares PostgreSQL enums by name
    only, so a ``yes_no_values`` made with other labels would pass."""
    if isinstance(live_type, types.Enum) and isinstance(wanted_type, types.Enum):
        if context.dialect.name == "postgresql" and live_type.name != wanted_type.name:
            return True
        return set(live_type.enums) != set(wanted_type.enums)
    return None


def _include_name(wanted: set[str], name: str | None, type_: str, parents: Any) -> bool:
    return type_ != "table" or name in wanted


def _flatten(diffs: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    for d in diffs:
        if isinstance(d, list):  # alembic groups the changes of one column
            yield from d
        else:
            yield d


def _of_missing(diff: tuple[Any, ...], missing: set[str]) -> bool:
    """An index or constraint of a table that does not exist (said once, for the table)."""
    if diff[0] == "add_table":
        return False
    table = getattr(diff[1], "table", None)
    return table is not None and table.name in missing


def _redundant(diff: tuple[Any, ...], md: MetaData) -> bool:
    """A unique constraint or index on exactly the primary key's columns: it adds nothing,
    and PostgreSQL does not even create one declared beside the primary key (alembic's
    scripts declare ``extensions.id`` and ``queue_log.id`` both ways; MySQL keeps both)."""
    if diff[0] not in ("add_constraint", "remove_constraint", "add_index", "remove_index"):
        return False
    item = diff[1]
    unique = getattr(item, "unique", None) if diff[0].endswith("index") else True
    if not unique or not hasattr(item, "columns") or item.table is None:
        return False
    if isinstance(item, sqlalchemy.ForeignKeyConstraint):
        return False
    table = md.tables.get(item.table.fullname)
    primary = {c.name for c in table.primary_key.columns} if table is not None else set()
    return bool(primary) and {c.name for c in item.columns} == primary


def _describe(
    diff: tuple[Any, ...], families: dict[str, str], label: str, dialect: Any
) -> Difference:
    kind = diff[0]
    _type = functools.partial(_type_in, dialect=dialect)

    def make(table: str, item: str, problem: str) -> Difference:
        return Difference(families.get(table, table), label, table, item, problem)

    if kind == "add_table":
        return make(diff[1].name, "", "the table does not exist")
    if kind in ("add_column", "remove_column"):
        table, col = diff[2], diff[3]
        what = "missing" if kind == "add_column" else "not in the definition"
        return make(table, col.name, f"column {what} ({_type(col.type)})")
    if kind == "modify_type":
        _, _, table, column, _, live, want = diff
        return make(table, column, f"type is {_type(live)}, the definition says {_type(want)}")
    if kind == "modify_nullable":
        _, _, table, column, _, live, want = diff
        state = {True: "NULL", False: "NOT NULL"}
        return make(table, column, f"is {state[live]}, the definition says {state[want]}")
    if kind == "modify_default":
        _, _, table, column, _, live, want = diff
        return make(table, column, f"default is {live!r}, the definition says {want!r}")
    if kind in ("add_index", "remove_index"):
        ix = diff[1]
        cols = ", ".join(c.name for c in ix.columns) or ", ".join(map(str, ix.expressions))
        what = "missing" if kind == "add_index" else "not in the definition"
        unique = "unique " if ix.unique else ""
        return make(ix.table.name, ix.name or "", f"{unique}index on ({cols}) {what}")
    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        c = diff[1]
        cols = ", ".join(col.name for col in c.columns)
        what = "missing" if kind.startswith("add") else "not in the definition"
        name = type(c).__name__.replace("Constraint", "").lower() or "constraint"
        return make(c.table.name, c.name or "", f"{name} constraint on ({cols}) {what}")
    table = next((x.name for x in diff if isinstance(x, Table)), "")
    return make(table, "", f"differs: {kind}")


def _type_in(t: Any, dialect: Any) -> str:
    """A column type as the live database spells it (alembic compares it so): an enum as
    its type name and labels on PostgreSQL, ``ENUM(...)`` on MySQL; ``VARCHAR(n)`` only
    where the database has no enum types (SQLite)."""
    try:
        text = str(t.compile(dialect=dialect))
    except Exception:
        return repr(t)
    if isinstance(t, types.Enum) and dialect.name == "postgresql":
        labels = ", ".join(repr(e) for e in t.enums)
        return f"the enum type {text} ({labels})"
    return text
