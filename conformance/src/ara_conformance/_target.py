"""Targets: how the suite reaches a driver and opens fresh, empty mappings on it.

A :class:`Target` names a driver and its connection settings and knows how to give every test
(and every hypothesis example) a :class:`Session`: a ``Realtime`` whose families map to *new,
empty* tables with the suite's columns. Tables are created through ``require`` in a create
mode when the driver declares ``require_create``; otherwise a target subclass overrides
:meth:`Target.create_table`. Optional abilities, each a method to override:

* :meth:`Target.read_raw` / :meth:`Target.write_raw`: the *back door*, storage read (and
  written) without the driver, so the driver is checked against what is really stored;
* :meth:`Target.outage`: make one database really unreachable for a while (the default
  injects ``BackendError`` through a wrapper plugin instead, and the report says so);
* :meth:`Target.database_settings`: settings of the extra databases the failover tests use;
* :meth:`Target.drop_table`: remove a session's tables afterwards.
"""

from __future__ import annotations

import contextlib
import importlib.metadata as md
import itertools
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ara_realtime import Capabilities, Realtime
from ara_realtime import Mapping as MappingLine
from ara_realtime.datatypes import Requirement
from ara_realtime.plugins import DRIVER_GROUP, Plugins

from ._faults import FaultInjector
from ._model import canonical_rows
from ._tables import TableSpec

__all__ = ["ROLES", "TARGET_GROUP", "Session", "Target", "TargetError", "make_target"]

#: Entry-point group through which a driver distribution may give the suite a ready target
#: (back door, real outage) for ``--ara-driver NAME``; the value is a callable
#: ``(database=..., settings=..., workdir=...) -> Target``. ara-conformance registers its own
#: targets for the core's ``sqlite3`` and ``memory`` drivers there too.
TARGET_GROUP = "ara_conformance.targets"

#: The roles a test may open: ``main`` (one backend), ``primary`` and ``secondary`` (failover).
ROLES: tuple[str, ...] = ("main", "primary", "secondary")

_FAULTS_NAME = "ara-conformance-faults"


class TargetError(Exception):
    """The target cannot give the suite what it needs (a set-up problem, not a driver bug)."""


class Target:
    """One driver under test, and how to open fresh, empty mappings on it.

    :param driver: the driver name (the entry-point name ``extconfig.conf`` uses).
    :param database: the database (section) name of the main role.
    :param settings: connection settings given in code, as ``Realtime(drivers=...)`` takes.
    :param name: the name in reports (default: the driver name).
    :param known_bugs: ``{test name: reason}``; these tests become strict xfails.
    :param create_settings: settings added when the driver declares ``require_create`` so
        that ``require`` creates tables (Asterisk's ``requirements = createclose``).
    :param check_settings: settings under which such a driver's ``require`` only checks
        (Asterisk's ``requirements = warn``), for the test of that mode.
    :param backoff: the back-off of every ``Realtime`` the suite opens (seconds).
    """

    #: How :meth:`outage` takes a database down, for the report.
    outage_kind = "fault injection (a wrapper plugin raises BackendError)"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # The base keeps its own state under _ara_* names only, so a subclass may use any
        # other name (_settings, _lock, _conn, ...) without breaking the suite; those names
        # are refused at class creation rather than failing every test later.
        super().__init_subclass__(**kwargs)
        taken = sorted(n for n in vars(cls) if n.startswith("_ara_"))
        if taken:
            raise TypeError(
                f"{cls.__qualname__} defines {', '.join(taken)}: names starting with _ara_ "
                "are reserved for ara_conformance.Target's own state; rename them"
            )

    def __init__(
        self,
        driver: str,
        *,
        database: str = "ara_conformance",
        settings: Mapping[str, str] | None = None,
        name: str | None = None,
        known_bugs: Mapping[str, str] | None = None,
        create_settings: Mapping[str, str] | None = None,
        check_settings: Mapping[str, str] | None = None,
        backoff: float = 0.05,
    ) -> None:
        self.driver = driver
        self.database = database
        self.settings = dict(settings or {})
        self.name = name or driver
        self.known_bugs = dict(known_bugs or {})
        self.create_settings = dict(
            {"requirements": "createclose"} if create_settings is None else create_settings
        )
        self.check_settings = dict(
            {"requirements": "warn"} if check_settings is None else check_settings
        )
        self.backoff = backoff
        self._ara_plugins: Plugins | None = None
        self._ara_caps: Capabilities | None = None
        self._ara_lock = threading.Lock()
        self._ara_counter = itertools.count(1)
        self._ara_prefix = secrets.token_hex(3)

    def __repr__(self) -> str:  # settings may hold secrets: never shown
        return f"<{type(self).__name__} {self.name!r} driver={self.driver!r}>"

    # -- plugins and capabilities ---------------------------------------------------------

    def make_plugins(self) -> Plugins:
        """A plugin manager that can load the driver (override to register it in code)."""
        return Plugins()

    @property
    def plugins(self) -> Plugins:
        """The plugin manager shared by this target's sessions."""
        with self._ara_lock:
            if self._ara_plugins is None:
                self._ara_plugins = self.make_plugins()
            return self._ara_plugins

    @property
    def capabilities(self) -> Capabilities:
        """What the driver declares for a connection with the main settings (asked once)."""
        if self._ara_caps is None:
            hooks = self.plugins.hooks(self.driver)
            if hooks.connect is None:
                raise TargetError(f"driver {self.driver!r} implements no ara_connect")
            conn = hooks.connect(self.database, dict(self.settings), None)
            try:
                caps = hooks.capabilities(conn) if hooks.capabilities is not None else None
            finally:
                if hooks.close is not None:
                    hooks.close(conn)
            if caps is None:
                caps = Capabilities()
            if not isinstance(caps, Capabilities):
                raise TargetError(
                    f"driver {self.driver!r}: ara_capabilities returned "
                    f"{type(caps).__name__}, not ara_realtime.Capabilities"
                )
            self._ara_caps = caps
        return self._ara_caps

    # -- databases and tables -------------------------------------------------------------

    def database_settings(self, role: str) -> tuple[str, dict[str, str]]:
        """Database name and settings for ``role``: ``main``, ``primary`` or ``secondary``.

        The default gives the extra roles their own database name with the main settings,
        so each role is a separate backend (connection) of the same storage.
        """
        if role == "main":
            return self.database, dict(self.settings)
        return f"{self.database}_{role}", dict(self.settings)

    def _ara_role_settings(self, role: str) -> tuple[str, dict[str, str]]:
        database, settings = self.database_settings(role)
        if self.capabilities.require_create:
            settings = {**self.create_settings, **settings}
        return database, settings

    def new_table_name(self, base: str) -> str:
        """A table name no earlier session used."""
        return f"ara_{base}_{self._ara_prefix}_{next(self._ara_counter)}"

    def create_table(
        self, rt: Realtime, family: str, database: str, table: str, spec: TableSpec
    ) -> None:
        """Create an empty ``table`` with ``spec``'s columns in ``database``.

        ``rt`` maps ``family`` to that table. The default uses ``require`` in a create mode,
        which needs a driver declaring ``require_create``; override it otherwise.
        """
        if not self.capabilities.require_create:
            raise TargetError(
                f"driver {self.driver!r} does not declare require_create, so the suite cannot "
                "create its tables: subclass ara_conformance.Target and override create_table"
            )
        if not rt.require(family, dict(spec.columns)):
            raise TargetError(f"require did not create table {table!r} in {database!r}")

    def drop_table(self, database: str, table: str) -> None:
        """Remove a session's table afterwards (default: left in place)."""

    # -- the back door --------------------------------------------------------------------

    def read_raw(self, database: str, table: str) -> list[dict[str, Any]]:
        """Every row of ``table`` as stored, read *without* the driver (``None`` for NULL)."""
        raise NotImplementedError

    def write_raw(self, database: str, table: str, row: Mapping[str, str | None]) -> None:
        """Insert a row *without* the driver (values as they are to be stored)."""
        raise NotImplementedError

    @property
    def backdoor(self) -> str | None:
        """``"write"``, ``"read"`` or ``None``: how much of the back door this target has."""
        cls = type(self)
        if cls.write_raw is not Target.write_raw and cls.read_raw is not Target.read_raw:
            return "write"
        if cls.read_raw is not Target.read_raw:
            return "read"
        return None

    # -- outages --------------------------------------------------------------------------

    @property
    def real_outage(self) -> bool:
        """True if :meth:`outage` really takes the storage down (no fault injection)."""
        return type(self).outage is not Target.outage

    @contextlib.contextmanager
    def outage(self, session: Session, role: str) -> Iterator[None]:
        """Make ``role``'s database unreachable inside the ``with`` block.

        The default injects ``BackendError`` through a wrapper plugin; override it to take
        the storage really down (stop a server, move a file away) and bring it back.
        """
        injector = session.injector
        if injector is None:
            raise TargetError("this session was opened without faults=True")
        database = session.database(role)
        injector.down.add(database)
        try:
            yield
        finally:
            injector.down.discard(database)

    # -- sessions -------------------------------------------------------------------------

    def open(
        self,
        families: Mapping[str, TableSpec],
        *,
        roles: Sequence[str] = ("main",),
        static: str | None = None,
        faults: bool = False,
        extra_columns: Mapping[str, Mapping[str, Requirement]] | None = None,
        observers: Sequence[object] = (),
    ) -> Session:
        """A fresh, empty mapping: see :class:`Session`."""
        return Session(
            self,
            families,
            roles=roles,
            static=static,
            faults=faults,
            extra_columns=extra_columns,
            observers=observers,
        )

    def close(self) -> None:
        """Release what the target holds (temporary directories, ...)."""

    def describe(self) -> dict[str, Any]:
        """The target as the report shows it (settings' names only: values may be secret)."""
        dist, version = driver_distribution(self.driver)
        try:
            caps: dict[str, Any] | None = self.capabilities.to_dict()
            error = None
        except Exception as exc:
            caps, error = None, f"{type(exc).__name__}: {exc}"
        return {
            "name": self.name,
            "driver": self.driver,
            "distribution": dist,
            "version": version,
            "settings": sorted(self.settings),
            "capabilities": caps,
            "capabilities_error": error,
            "backdoor": self.backdoor,
            "outage": self.outage_kind,
            "known_bugs": dict(self.known_bugs),
        }


def driver_distribution(driver: str) -> tuple[str | None, str | None]:
    """The distribution and version that provide ``driver`` through its entry point."""
    for ep in md.entry_points(group=DRIVER_GROUP):
        if ep.name == driver:
            dist = getattr(ep, "dist", None)
            if dist is not None:
                return str(dist.metadata["Name"]), str(dist.version)
    return None, None


class Session:
    """One fresh, empty mapping on a target.

    ``rt`` maps every family of ``families`` to a new table; with several ``roles``
    (``("primary", "secondary")``) each family is mapped once per role, at priority 1, 2, ...,
    to a table in that role's database. ``static`` names a family whose table is also mapped
    as ``global`` (so ``rt.load_config`` reads it). ``direct(role)`` is a ``Realtime`` mapped
    to one role only, for seeding and inspecting. ``faults=True`` registers the fault injector
    when the target has no real outage; ``observers`` are further wrapper plugins (a test
    that looks at what the driver's hooks return).
    """

    def __init__(
        self,
        target: Target,
        families: Mapping[str, TableSpec],
        *,
        roles: Sequence[str] = ("main",),
        static: str | None = None,
        faults: bool = False,
        extra_columns: Mapping[str, Mapping[str, Requirement]] | None = None,
        observers: Sequence[object] = (),
    ) -> None:
        self.target = target
        self.roles = tuple(roles)
        self.injector: FaultInjector | None = None
        plugins = target.plugins
        if faults and not target.real_outage:
            plugins = target.make_plugins()
            self.injector = FaultInjector()
            plugins.add_plugin(self.injector, name=_FAULTS_NAME)
        if observers:
            plugins = plugins if plugins is not target.plugins else target.make_plugins()
            for i, observer in enumerate(observers):
                plugins.add_plugin(observer, name=f"ara-conformance-observer-{i}")
        self.plugins = plugins
        self.specs: dict[tuple[str, str], TableSpec] = {}
        self.tables: dict[tuple[str, str], str] = {}
        self._databases: dict[str, tuple[str, dict[str, str]]] = {}
        self._direct: dict[str, Realtime] = {}
        self._all: list[Realtime] = []
        self._closed = False
        try:
            for role in self.roles:
                self._databases[role] = target._ara_role_settings(role)
                extra = (extra_columns or {}).get(role, {})
                for family, spec in families.items():
                    self.specs[(role, family)] = (
                        spec.with_columns(spec.name, extra) if extra else spec
                    )
                    self.tables[(role, family)] = target.new_table_name(spec.name)
                rt = self._realtime({f: [role] for f in families}, static)
                self._direct[role] = rt
                database = self.database(role)
                for family in families:
                    target.create_table(
                        rt,
                        family,
                        database,
                        self.tables[(role, family)],
                        self.specs[(role, family)],
                    )
            if len(self.roles) == 1:
                self.rt = self._direct[self.roles[0]]
            else:
                self.rt = self._realtime({f: list(self.roles) for f in families}, static)
        except BaseException:
            self.close()
            raise

    def _realtime(self, routes: Mapping[str, Sequence[str]], static: str | None) -> Realtime:
        lines: list[MappingLine] = []
        drivers: dict[str, dict[str, str]] = {}
        driver = self.target.driver
        for family, roles in routes.items():
            names = [family, "global"] if family == static else [family]
            for priority, role in enumerate(roles, start=1):
                database, settings = self._databases[role]
                drivers[database] = settings
                table = self.tables[(role, family)]
                lines.extend(MappingLine(n, driver, database, table, priority) for n in names)
        rt = Realtime(
            lines,
            {driver: drivers},
            plugins=self.plugins,
            backoff=self.target.backoff,
            max_backoff=self.target.backoff,
        )
        self._all.append(rt)
        return rt

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Session {self.target.name!r} {sorted(set(self.tables.values()))}>"

    # -- look-ups -------------------------------------------------------------------------

    def database(self, role: str = "main") -> str:
        """The database name of ``role``."""
        return self._databases[role][0]

    def table(self, family: str, role: str = "main") -> str:
        """The table ``family`` maps to in ``role``."""
        return self.tables[(role, family)]

    def spec(self, family: str, role: str = "main") -> TableSpec:
        return self.specs[(role, family)]

    def direct(self, role: str) -> Realtime:
        """A ``Realtime`` mapping every family to ``role``'s table only."""
        return self._direct[role]

    def another(self, role: str | None = None) -> Realtime:
        """Another ``Realtime`` on ``role``'s tables (default: the first role), with
        connections of its own, as a second process would have; closed with the session."""
        role = role or self.roles[0]
        return self._realtime({f: [role] for (r, f) in self.specs if r == role}, None)

    def without_create(self, role: str = "main") -> Realtime:
        """A ``Realtime`` on ``role``'s tables whose settings have no create mode.

        The target's ``create_settings`` are left out and, for a driver declaring
        ``require_create``, its ``check_settings`` put in (Asterisk's ``requirements = warn``),
        so ``require`` only checks. Closed with the session.
        """
        target = self.target
        database, settings = target.database_settings(role)
        plain = {k: v for k, v in settings.items() if k not in target.create_settings}
        if target.capabilities.require_create:
            plain.update(target.check_settings)
        lines = [
            MappingLine(family, self.target.driver, database, self.tables[(r, family)], 1)
            for (r, family) in self.tables
            if r == role
        ]
        rt = Realtime(
            lines,
            {self.target.driver: {database: plain}},
            plugins=self.plugins,
            backoff=self.target.backoff,
            max_backoff=self.target.backoff,
        )
        self._all.append(rt)
        return rt

    # -- the back door --------------------------------------------------------------------

    def raw(self, family: str, role: str = "main") -> list[dict[str, Any]]:
        """Rows of ``family``'s table as stored (the target's back door)."""
        return self.target.read_raw(self.database(role), self.table(family, role))

    def stored(self, family: str, role: str = "main") -> list[dict[str, str]]:
        """Rows as stored, in contract form (NULL/empty dropped, ``^XX`` decoded if declared)."""
        return canonical_rows(self.raw(family, role), decode=self.target.capabilities.codec)

    def write_raw(self, family: str, row: Mapping[str, str | None], role: str = "main") -> None:
        """Insert a row behind the driver's back."""
        self.target.write_raw(self.database(role), self.table(family, role), row)

    # -- outages and clean-up -------------------------------------------------------------

    def outage(self, role: str = "primary") -> contextlib.AbstractContextManager[None]:
        """``with session.outage("primary"):`` -- that role's database is down."""
        return self.target.outage(self, role)

    def drop_connections(self) -> None:
        """Close every open connection (they reopen on next use, like after a restart)."""
        for rt in self._all:
            rt.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for rt in self._all:
            with contextlib.suppress(Exception):
                rt.close()
        for (role, _family), table in self.tables.items():
            if role in self._databases:
                with contextlib.suppress(Exception):
                    self.target.drop_table(self.database(role), table)


def make_target(
    driver: str,
    *,
    database: str | None = None,
    settings: Mapping[str, str] | None = None,
    workdir: Path,
    known_bugs: Mapping[str, str] | None = None,
) -> Target:
    """The target for ``--ara-driver NAME``: from the driver's entry point, or a plain one."""
    kwargs: dict[str, Any] = {"settings": dict(settings or {}), "workdir": workdir}
    if database:
        kwargs["database"] = database
    found = {ep.value: ep for ep in md.entry_points(group=TARGET_GROUP) if ep.name == driver}
    if len(found) > 1:
        raise TargetError(
            f"{len(found)} {TARGET_GROUP} entries are named {driver!r} "
            f"({', '.join(sorted(found))}): uninstall all but one"
        )
    if found:
        (ep,) = found.values()
        target = ep.load()(**kwargs)
        if not isinstance(target, Target):
            raise TargetError(f"{TARGET_GROUP} entry {driver!r} returned {type(target).__name__}")
    else:
        target = Target(driver, database=database or "ara_conformance", settings=settings)
    target.known_bugs.update(known_bugs or {})
    return target
