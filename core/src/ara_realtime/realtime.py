"""The facade: families -> mappings -> one driver call, with failover by priority.

Realtime.load -> parse conditions -> find routes -> call the driver's hook -> row
                                                -> (next priority on BackendError)
"""

from __future__ import annotations

import collections.abc as cabc
import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .backends import Backend as _Backend
from .backends import Route as _Route
from .binding import Binding
from .capabilities import Capabilities
from .changes import ChangeFeed
from .conditions import (
    Condition,
    ConditionsArg,
    check_value,
    parse_conditions,
    parse_pair,
    parse_values,
)
from .conf import Config
from .datatypes import RequirementSpec, Row, parse_requirements
from .errors import BackendError, ConfigError, NotSupported, QueryError
from .extconfig import Mapping, MappingsArg, check_mappings, load_extconfig, mappings_from
from .plugins import Plugins, default_plugins
from .static import build_config
from .status import BackendStatus

__all__ = ["Realtime"]

log = logging.getLogger(__name__)

#: ``drivers=`` argument: driver name -> database -> settings.
DriverSettings = cabc.Mapping[str, cabc.Mapping[str, cabc.Mapping[str, str]]]

_MAX_INCLUDE_DEPTH = 10
_now = time.monotonic


class Realtime:
    """The realtime API over the mappings of one ``extconfig.conf`` (or given in code).

    Safe to share between threads. Use :meth:`from_config_dir` to read an Asterisk
    configuration directory, or pass ``mappings`` and ``drivers`` directly::

        rt = Realtime(mappings={"sippeers": "sqlite3,pbx"},
                      drivers={"sqlite3": {"pbx": {"dbfile": "pbx.db"}}})
    """

    def __init__(
        self,
        mappings: MappingsArg = (),
        drivers: DriverSettings | None = None,
        *,
        config_dir: str | os.PathLike[str] | None = None,
        plugins: Plugins | None = None,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        exec_includes: bool = False,
    ) -> None:
        self._plugins = plugins if plugins is not None else default_plugins()
        # absolute once: drivers join their own file names to it, whatever the CWD later is
        self.config_dir = Path(config_dir).absolute() if config_dir is not None else None
        self._driver_settings = {
            k: {d: dict(s) for d, s in v.items()} for k, v in (drivers or {}).items()
        }
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._exec_includes = exec_includes
        self._from_dir = False
        #: ``realtime_cache.conf`` of the configuration directory is read (again on reload)
        self._cache_file = False
        self._lock = threading.RLock()
        self._install(mappings_from(mappings))

    @classmethod
    def from_config_dir(
        cls,
        config_dir: str | os.PathLike[str],
        drivers: DriverSettings | None = None,
        *,
        cache: bool = True,
        **options: Any,
    ) -> Realtime:
        """Read ``extconfig.conf`` in ``config_dir``; drivers read their ``res_*.conf`` there.

        With ``cache`` (the default), ``realtime_cache.conf`` there, if it exists, switches
        the realtime cache on for the families it names (see :mod:`ara_realtime.cache`).
        """
        path = Path(config_dir)
        rt = cls(load_extconfig(path / "extconfig.conf"), drivers, config_dir=path, **options)
        rt._from_dir = True
        if cache:
            from .cache import configure_from_dir  # noqa: PLC0415  (only when configured)

            rt._cache_file = True
            configure_from_dir(rt)()
        return rt

    # -- set-up ---------------------------------------------------------------------------

    def _install(self, mappings: list[Mapping]) -> None:
        groups = check_mappings(mappings)
        backends: dict[tuple[str, str], _Backend] = {}
        routes: dict[str, tuple[_Route, ...]] = {}
        for key, group in groups.items():
            out = []
            for m in group:
                bkey = (m.driver, m.database)
                backend = backends.get(bkey)
                if backend is None:
                    settings = self._driver_settings.get(m.driver, {}).get(m.database, {})
                    backend = backends[bkey] = _Backend(
                        m.driver, m.database, settings, self.config_dir
                    )
                out.append(_Route(m, backend))
            routes[key] = tuple(out)
        self._mappings = list(mappings)
        self._backends = backends
        self._routes_lc = routes
        self._routes: dict[str, tuple[_Route, ...]] = {}

    @property
    def mappings(self) -> list[Mapping]:
        """Every mapping, in definition order."""
        return list(self._mappings)

    @property
    def plugins(self) -> Plugins:
        """The plugin manager this instance dispatches through."""
        return self._plugins

    def __repr__(self) -> str:
        where = f" {str(self.config_dir)!r}" if self.config_dir else ""
        return f"<Realtime{where} {len(self._routes_lc)} mapped names>"

    def __enter__(self) -> Realtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every open connection."""
        self._close(self._backends.values())

    def _close(self, backends: cabc.Iterable[_Backend]) -> None:
        for backend in backends:
            try:
                hooks = (
                    self._plugins.hooks(backend.driver) if backend.connection is not None else None
                )
            except ConfigError:
                hooks = None
            backend.close(hooks)

    def reload(self) -> None:
        """Re-read ``extconfig.conf`` (and ``realtime_cache.conf``, when built from a directory)
        and reopen connections; what the cache held is dropped.

        If a new file is invalid the old settings stay in force and ``ConfigError`` is raised.
        """
        with self._lock:
            apply_cache: Callable[[], None] | None = None
            if self._from_dir:
                assert self.config_dir is not None
                new = load_extconfig(self.config_dir / "extconfig.conf")
                if self._cache_file:
                    from .cache import configure_from_dir  # noqa: PLC0415

                    apply_cache = configure_from_dir(self)  # read now: a bad file changes nothing
            else:
                new = self._mappings
            old = list(self._backends.values())
            if apply_cache is not None:
                apply_cache()
            self._install(new)  # new calls use new backends; then the old ones are closed
            self._close(old)

    # -- routing and dispatch -------------------------------------------------------------

    def capabilities(self, family: str, /) -> Capabilities:
        """What the priority-1 backend of ``family`` can do (opening its connection)."""
        backend = self._routes_for(family)[0].backend
        if backend.connection is None or backend.bound[0] != self._plugins.generation:
            self._bind(backend)
        return backend.capabilities

    def change_feeds(self, family: str, /) -> list[tuple[str, str, ChangeFeed | None]]:
        """``(backend, table, feed)`` for each backend mapping ``family``, by priority: the
        driver's change feed for that connection (``ara_change_feed``), or ``None``.

        Opens the connections; the feeds are not subscribed to (see :mod:`ara_realtime.changes`).
        """
        out: list[tuple[str, str, ChangeFeed | None]] = []
        for route in self._routes_for(family):
            backend = route.backend
            hooks = self._plugins.hooks(backend.driver)
            conn = backend.connection or backend.open(hooks)
            feed = hooks.change_feed(conn) if hooks.change_feed is not None else None
            if feed is not None and not isinstance(feed, ChangeFeed):
                raise ConfigError(
                    f"driver {backend.driver!r}: ara_change_feed returned "
                    f"{type(feed).__name__}, not an ara_realtime.changes.ChangeFeed"
                )
            out.append((backend.label, route.table, feed))
        return out

    def is_mapped(self, family: str) -> bool:
        """True if any mapping names ``family`` (driver installed or not)."""
        return family.lower() in self._routes_lc

    def _routes_for(self, family: str) -> tuple[_Route, ...]:
        routes = self._routes.get(family)
        if routes is None:
            if type(family) is not str:
                raise QueryError(f"family must be str, not {type(family).__name__}")
            routes = self._routes_lc.get(family.lower())
            if routes is None:
                raise ConfigError(f"family {family!r} is not mapped in extconfig")
            self._routes[family] = routes
        return routes

    def _bind(self, backend: _Backend) -> dict[str, Callable[..., Any]]:
        """Open the backend if needed; a callable per supported operation, bound to it.

        A hook that only forwards to the connection's method becomes that bound method (one
        frame less per call); any other hook is bound with ``functools.partial``. Plugins
        implementing ``ara_bind`` may then wrap these callables (once, here).
        """
        while True:  # loading the driver is a change too: bind to the generation it made
            generation = self._plugins.generation
            hooks = self._plugins.hooks(backend.driver)
            if generation == self._plugins.generation:
                break
        conn = backend.connection
        if conn is None:
            conn = backend.open(hooks)
        ops: dict[str, Callable[..., Any]] = {}
        for op in backend.capabilities.operations:
            fn = hooks.get(op)
            if fn is None:
                continue
            method = getattr(conn, op, None) if op in hooks.direct else None
            ops[op] = method if method is not None else functools.partial(fn, conn)
        if hooks.bind is not None:
            tables = {
                name: route.table
                for name, routes in self._routes_lc.items()
                for route in routes
                if route.backend is backend
            }
            binding = Binding(
                self,
                backend.driver,
                backend.database,
                conn,
                capabilities=backend.capabilities,
                tables=tables,
                ops=ops,
                change_feed=hooks.change_feed,
            )
            hooks.bind(binding)
            ops = binding.checked_ops()
        backend.bound = (generation, ops)
        return ops

    def _invoke(self, route: _Route, family: str, op: str, args: tuple[Any, ...]) -> Any:
        backend = route.backend
        generation, ops = backend.bound
        if generation != self._plugins.generation or backend.connection is None:
            ops = self._bind(backend)
        fn = ops.get(op)
        if fn is None:
            raise NotSupported(
                f"driver {backend.driver!r} does not support {op} "
                f"(mapping {route.mapping.name!r} at {route.mapping.where})"
            )
        if op == "load_static":  # rows are read here, inside the failover's reach
            result = fn(route.table, *args)
            if not isinstance(result, list):
                result = list(result)
        else:
            result = fn(family, route.table, *args)
        if backend.failures:
            backend.mark_ok()
        return result

    def _run(self, family: str, op: str, args: tuple[Any, ...]) -> Any:
        """Call ``op`` on the first healthy backend; fail over only on ``BackendError``."""
        routes = self._routes.get(family) or self._routes_for(family)
        if len(routes) == 1:
            # the common case, one backend: call its bound operation directly
            route = routes[0]
            backend = route.backend
            generation, ops = backend.bound
            fn = ops.get(op)
            try:
                if (
                    fn is not None
                    and generation == self._plugins.generation
                    and not backend.failures
                    and op != "load_static"
                ):
                    return fn(family, route.table, *args)
                return self._invoke(route, family, op, args)
            except BackendError as exc:
                failures: list[tuple[str, BaseException]] = []
                self._failed(route, exc, failures)
                raise self._all_failed(family, op, failures) from exc
        failures = []
        deferred: list[_Route] = []
        unsupported: list[NotSupported] = []
        for route in routes:
            until = route.backend.failed_until
            if until and until > _now():
                deferred.append(route)
                continue
            try:
                return self._invoke(route, family, op, args)
            except BackendError as exc:
                self._failed(route, exc, failures)
            except NotSupported as exc:
                unsupported.append(exc)
        for route in deferred:  # every healthy backend failed: try the resting ones too
            try:
                return self._invoke(route, family, op, args)
            except BackendError as exc:
                self._failed(route, exc, failures)
            except NotSupported as exc:
                unsupported.append(exc)
        if not failures and unsupported:
            raise unsupported[0]
        raise self._all_failed(family, op, failures)

    @staticmethod
    def _all_failed(
        family: str, op: str, failures: list[tuple[str, BaseException]]
    ) -> BackendError:
        # one line: a driver's message may hold a server's multi-line text
        detail = "; ".join(f"{label}: {' '.join(str(exc).split())}" for label, exc in failures)
        return BackendError(
            f"{op} on {family!r} failed on every backend: {detail}", failures=failures
        )

    def _failed(
        self, route: _Route, exc: BackendError, failures: list[tuple[str, BaseException]]
    ) -> None:
        route.backend.mark_failed(exc, self._backoff, self._max_backoff)
        failures.append((route.backend.label, exc))

    # -- status -------------------------------------------------------------------------------

    def status(self, *, probe: bool = True) -> list[BackendStatus]:
        """Each backend's state: the mappings it serves, whether it answers, its pool, its
        back-off and its server (``realtime status``).

        With ``probe`` every backend is opened if needed and asked for its status (drivers
        implementing ``ara_status`` ask the storage, which proves it answers); without, only
        what calls so far have shown is reported. A probe never changes a backend's health.
        """
        served: dict[str, list[str]] = {}
        for m in self._mappings:
            served.setdefault(f"{m.driver}:{m.database}", []).append(
                m.name if m.priority == 1 else f"{m.name} (priority {m.priority})"
            )
        return [
            b.status(tuple(served.get(b.label, ())), self._plugins if probe else None)
            for b in self._backends.values()
        ]

    # -- the API --------------------------------------------------------------------------

    def load(self, family: str, /, *conditions: ConditionsArg, **equals: str) -> Row | None:
        """One row matching every condition, or ``None``.

        ``rt.load("sippeers", ("name", "alice"))``, ``rt.load("sippeers", name="alice")``,
        ``rt.load("sippeers", ("name LIKE", "al%"), host="dynamic")``.
        """
        conds: tuple[Condition, ...]
        if (
            len(conditions) == 1
            and not equals
            and type(pair := conditions[0]) is tuple
            and len(pair) == 2
        ):
            conds = parse_pair(pair[0], pair[1], family)
        else:
            conds = parse_conditions(conditions, equals, family)
        if not conds:
            raise QueryError("load needs at least one condition", family=family)
        result: Row | None = self._run(family, "load", (conds,))
        return result

    def load_multi(self, family: str, /, *conditions: ConditionsArg, **equals: str) -> list[Row]:
        """Every matching row, ordered by the first condition's column."""
        conds = parse_conditions(conditions, equals, family)
        if not conds:
            raise QueryError("load_multi needs at least one condition", family=family)
        result: list[Row] | None = self._run(family, "load_multi", (conds,))
        return result if result is not None else []

    def update(
        self,
        family: str,
        keyfield: str,
        lookup: str,
        fields: cabc.Mapping[str, str] | None = None,
        /,
        **values: str,
    ) -> int:
        """Set ``fields`` on the rows whose ``keyfield`` matches ``lookup``; rows matched."""
        key = parse_pair(keyfield, lookup, family)[0]
        new = parse_values(_merge(fields, values, family), family)
        return int(self._run(family, "update", (key, new)))

    def update2(
        self,
        family: str,
        lookup: cabc.Mapping[str, str] | cabc.Iterable[tuple[str, str]],
        fields: cabc.Mapping[str, str],
        /,
    ) -> int:
        """Set ``fields`` on every row matching all ``lookup`` conditions; rows matched."""
        args: list[ConditionsArg] = [lookup] if isinstance(lookup, cabc.Mapping) else list(lookup)
        conds = parse_conditions(args, None, family)
        if not conds:
            raise QueryError("update2 needs at least one lookup condition", family=family)
        new = parse_values(fields, family)
        return int(self._run(family, "update2", (conds, new)))

    def store(
        self, family: str, fields: cabc.Mapping[str, str] | None = None, /, **values: str
    ) -> int:
        """Insert one row; returns 1."""
        new = parse_values(_merge(fields, values, family), family)
        return int(self._run(family, "store", (new,)))

    def destroy(
        self,
        family: str,
        keyfield: str,
        lookup: str,
        /,
        *conditions: ConditionsArg,
        **equals: str,
    ) -> int:
        """Delete the rows whose ``keyfield`` matches ``lookup`` (and every extra condition)."""
        conds = parse_conditions([(keyfield, lookup), *conditions], equals, family)
        return int(self._run(family, "destroy", (conds,)))

    def require(self, family: str, columns: cabc.Mapping[str, RequirementSpec], /) -> bool:
        """Check (and in the create modes, create) columns; ``True`` if all are met.

        ``rt.require("sippeers", {"ipaddr": ("char", 45), "port": ("uinteger2", 5)})``
        """
        reqs = parse_requirements(columns, family)
        return bool(self._run(family, "require", (reqs,)))

    def unload(self, family: str, /) -> bool:
        """Drop cached metadata and rows of ``family`` on every backend that maps it."""
        dropped = False
        for route in self._routes_for(family):
            try:
                dropped = bool(self._invoke(route, family, "unload", ())) or dropped
            except NotSupported:
                continue
            except BackendError as exc:
                log.warning("unload %r on %s failed: %s", family, route.backend.label, exc)
        return dropped

    # -- static configuration -------------------------------------------------------------

    def _static_routes(self, name: str) -> tuple[_Route, ...] | None:
        return self._routes_lc.get(name.lower()) or self._routes_lc.get("global")

    def load_config(self, name: str, /) -> Config:
        """Load a ``.conf`` file: from the driver its mapping (or ``global``) names, else disk.

        ``#include`` lines and rows go through the same look-up.
        """
        check_value(name, "file name")  # NUL, lone surrogates: a QueryError before any I/O
        if not name:
            raise QueryError("load_config needs a file name")
        return self._load_config(name, ())

    def _load_config(self, name: str, stack: tuple[str, ...]) -> Config:
        if name in stack:
            raise ConfigError(f"{name}: included recursively ({' -> '.join((*stack, name))})")
        if len(stack) >= _MAX_INCLUDE_DEPTH:
            raise ConfigError(f"{name}: includes nested deeper than {_MAX_INCLUDE_DEPTH}")
        routes = self._static_routes(name)
        if routes is None:
            path = Path(name)
            if not path.is_absolute() and self.config_dir is not None:
                path = self.config_dir / path
            return Config.from_file(
                path,
                config_dir=self.config_dir,
                exec_includes=self._exec_includes,
                include_resolver=lambda inc: self._resolve_include(inc, (*stack, name)),
            )
        family = routes[0].mapping.name
        rows = self._run(family, "load_static", (name,))
        return build_config(
            rows, filename=name, include=lambda inc: self._load_config(inc, (*stack, name))
        )

    def _resolve_include(self, name: str, stack: tuple[str, ...]) -> Config | None:
        if self._static_routes(name) is None:
            return None
        return self._load_config(name, stack)


def _merge(
    fields: cabc.Mapping[str, str] | None, values: dict[str, str], family: str
) -> cabc.Mapping[str, str]:
    """The columns of a write given as a mapping and/or keywords (a plain dict as it is)."""
    if fields is None:
        return values
    if type(fields) is dict and not values:
        return fields
    try:
        return {**fields, **values}
    except TypeError:
        raise QueryError(
            f"the columns to write must be a mapping, not {type(fields).__name__}", family=family
        ) from None
