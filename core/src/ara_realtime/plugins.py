"""Finding, loading and calling drivers and wrapper plugins.

Drivers come from the entry-point group ``ara_realtime.drivers``; the entry name is the
driver name ``extconfig.conf`` uses. A driver is imported only when a mapping names it.
Wrapper plugins (caching, metrics, tracing) come from ``ara_realtime.plugins`` and wrap every
driver's calls.

Environment:

``ARA_REALTIME_LOAD_PLUGINS``
    Comma-separated allow-list of entry names to load from installed distributions; empty
    means none. The built-in drivers (``sqlite3``, ``memory``) are always available.
``ARA_REALTIME_TRACE_PLUGINS``
    Any non-empty value logs every hook call at DEBUG level on ``ara_realtime.plugins``.
"""

from __future__ import annotations

import collections.abc as cabc
import importlib.metadata as md
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pluggy
from pluggy import HookImpl

from . import hookspecs
from .capabilities import ALL_OPERATIONS, Capabilities, hook_name
from .driver import ConnectionDriver
from .errors import ConfigError

__all__ = [
    "DRIVER_GROUP",
    "ENV_ALLOW",
    "ENV_TRACE",
    "OPERATION_HOOKS",
    "PLUGIN_GROUP",
    "DriverHooks",
    "DriverInfo",
    "Plugins",
    "default_plugins",
]

DRIVER_GROUP = "ara_realtime.drivers"
PLUGIN_GROUP = "ara_realtime.plugins"
ENV_ALLOW = "ARA_REALTIME_LOAD_PLUGINS"
ENV_TRACE = "ARA_REALTIME_TRACE_PLUGINS"
_CORE_DIST = "ara-realtime"

#: Hook name per operation (the names ``Capabilities.operations`` uses).
OPERATION_HOOKS: dict[str, str] = {op: hook_name(op) for op in ALL_OPERATIONS}
_DRIVER_ONLY_HOOKS = ("ara_connect", "ara_close", "ara_capabilities", "ara_status")

#: The project's own drivers that are not part of the core: driver name -> distribution and
#: its folder in a clone (for the message when a mapping names one that is not installed).
KNOWN_DRIVERS: dict[str, tuple[str, str]] = {
    "pgsql": ("ara-pgsql", "plugins/ara_pgsql"),
    "mysql": ("ara-mysql", "plugins/ara_mysql"),
    "odbc": ("ara-odbc", "plugins/ara_odbc"),
    "ldap": ("ara-ldap", "plugins/ara_ldap"),
}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriverInfo:
    """One row of ``realtime drivers``."""

    name: str
    distribution: str | None
    version: str | None
    module: str
    builtin: bool
    capabilities: Capabilities | None = None
    error: str | None = None
    hooks: tuple[str, ...] = field(default=())


class DriverHooks:
    """The callables for one driver: its own implementations plus every wrapper plugin.

    :meth:`get` gives, per operation (``load``, ``store``, ...), a callable taking the hook's
    parameters positionally, in spec order, or ``None`` when the driver does not implement
    the hook; without wrappers it is the driver's function itself. :attr:`direct` names the
    operations whose hook only forwards to the connection's method of the same name (a
    :class:`~ara_realtime.driver.ConnectionDriver` with nothing wrapping the hook): the core
    calls that method directly.
    """

    __slots__ = ("_ops", "capabilities", "close", "connect", "direct", "name", "status")

    def __init__(
        self,
        name: str,
        callers: dict[str, Callable[..., Any] | None],
        direct: frozenset[str] = frozenset(),
    ) -> None:
        self.name = name
        self.connect = callers["ara_connect"]
        self.close = callers["ara_close"]
        self.capabilities = callers["ara_capabilities"]
        self.status = callers["ara_status"]
        self._ops = {op: callers[hook] for op, hook in OPERATION_HOOKS.items()}
        self.direct = direct

    def get(self, operation: str) -> Callable[..., Any] | None:
        """The caller for ``operation`` (``"load"``, ...), or ``None``."""
        return self._ops.get(operation)


class Plugins:
    """The plugin manager: lazy driver loading, wrappers, the allow-list, listing."""

    def __init__(self, *, allow: Sequence[str] | None = None, trace: bool | None = None) -> None:
        if allow is None and ENV_ALLOW in os.environ:
            allow = [n.strip() for n in os.environ[ENV_ALLOW].split(",") if n.strip()]
        self._allow = None if allow is None else frozenset(allow)
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._lock = threading.RLock()
        self._drivers: dict[str, object] = {}
        self._dists: dict[str, md.Distribution | None] = {}
        self._extra_plugins: set[str] = set()
        self._hooks: dict[str, DriverHooks] = {}
        #: Bumped whenever a driver or plugin is added or removed (callers re-bind).
        self.generation = 0
        self._trace = bool(os.environ.get(ENV_TRACE)) if trace is None else trace
        if self._trace:
            self.pm.add_hookcall_monitoring(self._before, self._after)
        self._load_entry_point_plugins()

    # -- discovery -----------------------------------------------------------------------

    def _allowed(self, ep: md.EntryPoint) -> bool:
        if self._allow is None:
            return True
        dist = getattr(ep, "dist", None)
        if dist is not None and dist.metadata["Name"] == _CORE_DIST:
            return True
        return ep.name in self._allow

    def _entry_points(self, group: str) -> Iterator[md.EntryPoint]:
        for ep in md.entry_points(group=group):
            if self._allowed(ep):
                yield ep

    def driver_names(self) -> list[str]:
        """Names of every driver that can be loaded, sorted."""
        names = {ep.name for ep in self._entry_points(DRIVER_GROUP)} | set(self._drivers)
        return sorted(names)

    def _load_entry_point_plugins(self) -> None:
        for ep in self._entry_points(PLUGIN_GROUP):
            try:
                plugin = ep.load()
            except Exception as exc:
                raise ConfigError(
                    f"plugin {ep.name!r} ({ep.value}) failed to import: {exc}"
                ) from exc
            self.add_plugin(plugin, name=ep.name)

    # -- registration --------------------------------------------------------------------

    def add_driver(self, name: str, plugin: object, *, dist: md.Distribution | None = None) -> None:
        """Register ``plugin`` as driver ``name`` (in code, without an entry point)."""
        with self._lock:
            if name in self._drivers:
                raise ConfigError(f"driver {name!r} is already registered")
            self._register(plugin, name, kind="driver")
            if not any(
                i.plugin is plugin and not i.wrapper and not i.hookwrapper
                for i in self.pm.hook.ara_connect.get_hookimpls()
            ):
                self.pm.unregister(plugin)
                raise ConfigError(f"driver {name!r} does not implement the hook 'ara_connect'")
            self._drivers[name] = plugin
            self._dists[name] = dist
            self._changed()

    def add_plugin(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin that wraps or intercepts every driver's calls.

        Each hook it implements must be a wrapper (``@hookimpl(wrapper=True)``) or an
        interceptor (``@hookimpl(tryfirst=True)`` returning ``None`` to let the driver answer,
        anything else to answer instead, as a cache does).

        :return: the name it was registered under (for :meth:`remove_plugin`).
        """
        with self._lock:
            registered = self._register(plugin, name, kind="plugin")
            for impl_hook in self.pm.get_hookcallers(plugin) or []:
                for impl in impl_hook.get_hookimpls():
                    if impl.plugin is not plugin or _is_plugin_impl(impl):
                        continue
                    self.pm.unregister(plugin)
                    raise ConfigError(
                        f"plugin {registered!r}: hook {impl_hook.name!r} must be a wrapper "
                        "(@hookimpl(wrapper=True)) or an interceptor (@hookimpl(tryfirst=True)); "
                        "only drivers implement hooks plainly"
                    )
            self._extra_plugins.add(registered)
            self._changed()
            return registered

    def _changed(self) -> None:
        self._hooks.clear()
        self.generation += 1

    def remove_plugin(self, name: str) -> None:
        """Unregister the wrapper plugin registered as ``name``."""
        with self._lock:
            self.pm.unregister(name=name)
            self._extra_plugins.discard(name)
            self._changed()

    def _register(self, plugin: object, name: str | None, *, kind: str) -> str:
        label = name or repr(plugin)
        try:
            registered = self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise ConfigError(f"{kind} {label!r} refused: {exc}") from None
        except ValueError as exc:
            raise ConfigError(f"{kind} {label!r} refused: {exc}") from None
        if registered is None:
            raise ConfigError(f"{kind} {label!r} is blocked")
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(plugin)
            raise ConfigError(f"{kind} {label!r} refused: {exc}") from None
        return registered

    # -- lazy loading --------------------------------------------------------------------

    def load_driver(self, name: str) -> object:
        """Import and register the driver ``name`` if needed; return the plugin object."""
        plugin = self._drivers.get(name)
        if plugin is not None:
            return plugin
        with self._lock:
            plugin = self._drivers.get(name)
            if plugin is not None:
                return plugin
            for ep in self._entry_points(DRIVER_GROUP):
                if ep.name == name:
                    break
            else:
                raise ConfigError(self._not_installed(name))
            try:
                plugin = ep.load()
            except Exception as exc:
                raise ConfigError(
                    f"driver {name!r} ({ep.value}) failed to import: {type(exc).__name__}: {exc}"
                ) from exc
            self.add_driver(name, plugin, dist=getattr(ep, "dist", None))
            return plugin

    def _not_installed(self, name: str) -> str:
        known = ", ".join(self.driver_names()) or "none"
        if self._allow is not None and name not in self._allow:
            return (
                f"driver {name!r} is not allowed by {ENV_ALLOW} "
                f"(= {','.join(sorted(self._allow))}); available: {known}"
            )
        provider = KNOWN_DRIVERS.get(name)
        if provider is not None:
            dist, folder = provider
            return (
                f"driver {name!r} is not installed: it is provided by the distribution {dist} "
                f"(from a clone of ara-realtime: pip install ./core ./{folder}); "
                f"installed: {known}"
            )
        return (
            f"no driver named {name!r} is installed (drivers register under the entry-point "
            f"group {DRIVER_GROUP}); installed: {known}"
        )

    def hooks(self, name: str) -> DriverHooks:
        """The :class:`DriverHooks` of driver ``name`` (loading it if needed)."""
        hooks = self._hooks.get(name)
        if hooks is None:
            with self._lock:
                plugin = self.load_driver(name)
                callers, direct = self._build_callers(plugin)
                hooks = DriverHooks(name, callers, direct)
                self._hooks[name] = hooks
        return hooks

    def _impls_of(self, hook: str, plugin: object) -> list[Any]:
        """The driver's own implementations plus every wrapper or interceptor plugin's."""
        caller = getattr(self.pm.hook, hook)
        return [
            impl
            for impl in caller.get_hookimpls()
            if impl.plugin is plugin
            or (impl.plugin_name in self._extra_plugins and _is_plugin_impl(impl))
        ]

    def _build_callers(
        self, plugin: object
    ) -> tuple[dict[str, Callable[..., Any] | None], frozenset[str]]:
        callers: dict[str, Callable[..., Any] | None] = {}
        direct: set[str] = set()
        for hook in (*_DRIVER_ONLY_HOOKS, *OPERATION_HOOKS.values()):
            impls = self._impls_of(hook, plugin)
            own = [i for i in impls if i.plugin is plugin and not (i.wrapper or i.hookwrapper)]
            if not own:
                callers[hook] = None
                continue
            spec = getattr(self.pm.hook, hook).spec
            argnames: tuple[str, ...] = spec.argnames
            callers[hook] = self._make_caller(hook, argnames, impls, plugin)
            op = hook.removeprefix("ara_")
            if (
                len(impls) == 1
                and not self._trace
                and isinstance(plugin, ConnectionDriver)
                and plugin.forwards(op)
            ):
                direct.add(op)
        return callers, frozenset(direct)

    def _make_caller(
        self, hook: str, argnames: tuple[str, ...], impls: list[Any], plugin: object
    ) -> Callable[..., Any]:
        if len(impls) == 1 and not self._trace:
            impl = impls[0]
            function: Callable[..., Any] = impl.function
            if tuple(impl.argnames) == argnames:
                return function
            index = [argnames.index(n) for n in impl.argnames]
            return lambda *args: function(*[args[i] for i in index])
        # pluggy runs the driver's implementation inside every wrapper, monitoring included;
        # the other drivers' implementations of the same hook are left out
        others = [
            p
            for name, p in self.pm.list_name_plugin()
            if p is not plugin and name not in self._extra_plugins
        ]
        caller = self.pm.subset_hook_caller(hook, remove_plugins=others)

        def call(*args: Any) -> Any:
            return caller(**dict(zip(argnames, args)))

        return call

    # -- tracing and listing -------------------------------------------------------------

    @staticmethod
    def _before(hook_name: str, impls: Sequence[HookImpl], kwargs: cabc.Mapping[str, Any]) -> None:
        """Log a hook call without values: settings, written values and lookups may be secret."""
        names = [i.plugin_name for i in impls]
        shown = {k: _redact(k, v) for k, v in kwargs.items() if k != "settings"}
        log.debug("call %s via %s with %r", hook_name, names, shown)

    @staticmethod
    def _after(
        outcome: Any, hook_name: str, impls: Sequence[HookImpl], kwargs: cabc.Mapping[str, Any]
    ) -> None:
        exc = outcome.exception
        if exc is not None:
            log.debug("%s raised %s", hook_name, type(exc).__name__)
        else:
            log.debug("%s returned %s", hook_name, type(outcome.get_result()).__name__)

    def describe(self) -> list[DriverInfo]:
        """Every available driver with distribution, version and capabilities."""
        eps = {ep.name: ep for ep in self._entry_points(DRIVER_GROUP)}
        out: list[DriverInfo] = []
        for name in self.driver_names():
            ep = eps.get(name)
            dist = getattr(ep, "dist", None) if ep is not None else self._dists.get(name)
            dist_name = dist.metadata["Name"] if dist is not None else None
            version = dist.version if dist is not None else None
            module = ep.value if ep is not None else type(self._drivers[name]).__module__
            try:
                hooks = self.hooks(name)
                caps = hooks.capabilities(None) if hooks.capabilities else Capabilities()
                implemented = tuple(op for op in OPERATION_HOOKS if hooks.get(op) is not None)
                error = None
            except ConfigError as exc:
                caps, implemented, error = None, (), str(exc)
            out.append(
                DriverInfo(
                    name=name,
                    distribution=dist_name,
                    version=version,
                    module=module,
                    builtin=dist_name == _CORE_DIST,
                    capabilities=caps,
                    error=error,
                    hooks=implemented,
                )
            )
        return out


def _redact(name: str, value: Any) -> Any:
    """What tracing shows of one hook argument: columns and operators, never values."""
    if name == "values":
        return [column for column, _ in value]
    if name == "conditions":
        return [f"{c.column} {c.op}" for c in value]
    if name == "key":
        return f"{value.column} {value.op}"
    if name == "columns":
        return list(value)
    if name == "connection":
        return type(value).__name__
    return value


def _is_plugin_impl(impl: Any) -> bool:
    return bool(impl.wrapper or impl.hookwrapper or impl.tryfirst)


_default: Plugins | None = None
_default_lock = threading.Lock()


def default_plugins() -> Plugins:
    """The process-wide :class:`Plugins` used when a ``Realtime`` is not given its own."""
    global _default  # noqa: PLW0603
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Plugins()
    return _default
