"""The conformance target for this driver (imported only by test runs; needs ara-conformance).

The suite's tables are ``araTable`` entries (the shipped schema) under a fresh
``ou=ara-conformance-<token>`` below the ``basedn`` setting, one ``ou`` per role (``main``,
``primary``, ``secondary``): the driver reads each table's column mapping from its entry, so
fresh tables need no change to ``res_ldap.conf``. Text columns map to ``araText*`` attributes,
which match like Asterisk's own (case-insensitive, spaces squashed: the driver must keep that
out of results), or with ``exact=True`` to the byte-exact ``araExact*``; integer columns map to
``araInteger*``. Rows are ``araRow`` entries named ``cn=<random>``.

* back door: ldap3 directly, bound as the same user;
* real outage: the ``primary`` and ``secondary`` roles reach the server through a TCP relay of
  their own; an outage cuts every relayed connection and refuses new ones until it ends.

Used as ``LdapTarget(settings=...)`` in ``tests/``, or by name through the
``ara_conformance.targets`` entry point: ``pytest -p ara_conformance --pyargs
ara_conformance.suite --ara-driver ldap --ara-setting url=ldap://... --ara-setting user=...
--ara-setting pass=... --ara-setting basedn=dc=example,dc=org``.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import ldap3
from ldap3.core.exceptions import LDAPNoSuchObjectResult

from ara_conformance import Session, TableSpec, Target, TargetError
from ara_realtime import Realtime

from .config import read_settings
from .filters import escape_rdn

__all__ = ["LdapTarget", "Relay", "make_target"]

_ROLES = ("main", "primary", "secondary")
_POOL = {"araText": 16, "araExact": 16, "araInteger": 8}


class Relay:
    """A TCP relay on 127.0.0.1 to ``host:port`` that can be cut (a real network outage)."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        self.port = 0
        self._listen()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: an outage, or the end
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop every relayed connection and refuse new ones (connection refused)."""
        with self._lock:
            listener, self._listener = self._listener, None
            pairs, self._pairs = self._pairs, []
        if listener is not None:
            with contextlib.suppress(OSError):  # wakes the accepting thread (Linux)
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def restore(self) -> None:
        """Accept connections again, on the same port."""
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        self.cut()


class LdapTarget(Target):
    """``ldap`` on one directory server: an ``ou`` per role, an ``araTable`` entry per table."""

    outage_kind = (
        "real (the role's TCP relay to the server drops its connections and refuses new ones)"
    )

    def __init__(
        self,
        *,
        database: str | None = None,
        settings: Mapping[str, str] | None = None,
        workdir: Path | None = None,
        exact: bool = False,
        **options: Any,
    ) -> None:
        given = dict(settings or {})
        parent = (database if database and "=" in database else None) or given.pop("basedn", "")
        given.pop("basedn", None)
        if not parent:
            raise TargetError(
                "the ldap target needs the basedn setting: an existing entry under which it "
                "may create (and afterwards delete) ou=ara-conformance-<token>"
            )
        self.root = f"ou=ara-conformance-{secrets.token_hex(4)},{parent}"
        self.text_prefix = "araExact" if exact else "araText"
        resolved = read_settings(self.root, given, None)
        host_port = resolved.url.split("://", 1)[1]
        host, _, port = host_port.rpartition(":")
        self._upstream = (host or host_port, int(port) if port.isdigit() else 389)
        self._relays: dict[str, Relay] = {}
        self._conn = ldap3.Connection(
            ldap3.Server(resolved.url, get_info=ldap3.NONE, connect_timeout=5),
            user=resolved.user,
            password=resolved.password,
            auto_bind=ldap3.AUTO_BIND_NO_TLS,
            raise_exceptions=True,
            check_names=False,
            receive_timeout=30,
        )
        self._conn_lock = threading.Lock()
        self._maps: dict[tuple[str, str], dict[str, str]] = {}
        name = options.pop("name", "ldap-exact" if exact else "ldap")
        super().__init__(
            "ldap", database=f"ou=main,{self.root}", settings=given, name=name, **options
        )
        self._add(self.root, ["organizationalUnit"], {"ou": self.root.split(",")[0][3:]})
        for role in _ROLES:
            self._add(f"ou={role},{self.root}", ["organizationalUnit"], {"ou": role})

    def _add(self, dn: str, classes: list[str], attrs: Mapping[str, Any]) -> None:
        with self._conn_lock:
            self._conn.add(dn, classes, dict(attrs))  # type: ignore[no-untyped-call]

    # -- roles ------------------------------------------------------------------------

    def database_settings(self, role: str) -> tuple[str, dict[str, str]]:
        if role == "main":
            return self.database, dict(self.settings)
        relay = self._relays.get(role)
        if relay is None:
            relay = self._relays[role] = Relay(*self._upstream)
        scheme = "ldaps" if str(self.settings.get("url", "")).startswith("ldaps") else "ldap"
        if scheme == "ldaps":
            raise TargetError("the failover roles relay plain ldap:// only")
        return f"ou={role},{self.root}", {**self.settings, "url": f"ldap://127.0.0.1:{relay.port}"}

    # -- tables -----------------------------------------------------------------------

    def create_table(
        self, rt: Realtime, family: str, database: str, table: str, spec: TableSpec
    ) -> None:
        used = dict.fromkeys(_POOL, 0)
        mapping: dict[str, str] = {}
        for column, req in spec.columns.items():
            prefix = "araInteger" if req.type.is_int else self.text_prefix
            used[prefix] += 1
            if used[prefix] > _POOL[prefix]:
                raise TargetError(
                    f"table {table!r} needs more than {_POOL[prefix]} {prefix} columns"
                )
            mapping[column] = f"{prefix}{used[prefix]}"
        self._add(
            f"ou={escape_rdn(table)},{database}",
            ["organizationalUnit", "araTable"],
            {
                "ou": table,
                "araColumn": [f"{c} {a}" for c, a in mapping.items()],
                "araObjectClass": ["araRow"],
                "araRdnAttribute": "cn",
            },
        )
        self._maps[(database, table)] = mapping

    def _children(self, dn: str, attributes: list[str]) -> list[dict[str, Any]]:
        with self._conn_lock:
            entries = self._conn.extend.standard.paged_search(
                dn,
                "(objectClass=*)",
                ldap3.LEVEL,
                attributes=attributes,
                paged_size=500,
                generator=False,
            )
        return [e for e in entries if e.get("type") == "searchResEntry"]

    def drop_table(self, database: str, table: str) -> None:
        self._delete_tree(f"ou={escape_rdn(table)},{database}")
        self._maps.pop((database, table), None)

    def _delete_tree(self, dn: str) -> None:
        try:
            children = self._children(dn, [])
        except LDAPNoSuchObjectResult:
            return
        for child in children:
            self._delete_tree(child["dn"])
        with self._conn_lock, contextlib.suppress(LDAPNoSuchObjectResult):
            self._conn.delete(dn)  # type: ignore[no-untyped-call]

    # -- the back door ----------------------------------------------------------------

    def read_raw(self, database: str, table: str) -> list[dict[str, Any]]:
        mapping = self._maps[(database, table)]
        entries = self._children(f"ou={escape_rdn(table)},{database}", list(mapping.values()))
        rows = []
        for entry in entries:
            raw = {k.lower(): v for k, v in entry["raw_attributes"].items()}
            rows.append(
                {
                    column: b";".join(raw[attr.lower()]).decode("utf-8")
                    if raw.get(attr.lower())
                    else None
                    for column, attr in mapping.items()
                }
            )
        return rows

    def write_raw(self, database: str, table: str, row: Mapping[str, str | None]) -> None:
        mapping = self._maps[(database, table)]
        name = secrets.token_hex(8)
        attrs: dict[str, Any] = {"cn": name}
        for column, value in row.items():
            attr = mapping[column]
            if value is None:
                continue
            if value == "" and not attr.startswith("araExact"):
                continue  # a directory string cannot be empty: the value is simply absent
            attrs[attr] = [value.encode("utf-8")]
        self._add(f"cn={name},ou={escape_rdn(table)},{database}", ["araRow"], attrs)

    # -- outages ----------------------------------------------------------------------

    @contextlib.contextmanager
    def outage(self, session: Session, role: str) -> Iterator[None]:
        if role == "main":
            raise TargetError("the ldap target takes down the primary and secondary roles only")
        self.database_settings(role)  # makes sure the role has its relay
        relay = self._relays[role]
        relay.cut()
        try:
            yield
        finally:
            relay.restore()

    def close(self) -> None:
        for relay in self._relays.values():
            relay.close()
        self._relays.clear()
        with contextlib.suppress(Exception):
            self._delete_tree(self.root)
        with contextlib.suppress(Exception):
            self._conn.unbind()


def make_target(
    *, database: str | None = None, settings: Mapping[str, str] | None = None, **options: Any
) -> LdapTarget:
    """Entry point ``ara_conformance.targets: ldap``."""
    return LdapTarget(database=database, settings=settings, **options)
