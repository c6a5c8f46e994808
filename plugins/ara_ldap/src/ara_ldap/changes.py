"""The change feed: an RFC 4533 sync search, polled (``ara_change_feed``, kind ``poll``).

Each watched table is read once when the subscription starts, with the Content
Synchronization control in ``refreshOnly`` mode: the server returns every entry (its
``entryUUID`` in a Sync State control, and the key column's attribute) and a *cookie*. Every
``interval`` seconds the same search is sent again with the cookie, and the server returns
only what changed since: entries added or modified (with their new values), the UUIDs of
deleted entries (a Sync Info message, from its session log), or, when it cannot tell which
were deleted, the UUIDs of those still present (everything else is gone). Knowing each
entry's key by its UUID, the feed reports the old and the new key of every changed row, also
of a deleted one. A server that cannot continue from the cookie (``e-syncRefreshRequired``)
gets a new full read, and the subscription reports that it lost track.

The searches go to the server the reads go to, so a cache on top is told of a change once
*the replica it reads from* has it (not before, when the provider has it, which would let the
cache reload the old row from a replica still behind). When the reads move to another server
(a failover), the subscription reports that it lost track and starts afresh there.

It needs the server to support the control: OpenLDAP's ``syncprov`` overlay on the database
(a replica that is itself a syncrepl consumer needs it too); a session log
(``syncprov-sessionlog``) keeps an unchanged poll and a poll after deletions cheap. A table on
a server without it is not ``ready`` (the cache keeps its rows for their ``ttl`` instead).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ldap3
from pyasn1.codec.ber import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import namedtype, tag, univ

from ara_realtime import BackendError, QueryError
from ara_realtime.changes import Change, ChangeFeed, Subscription

from .pool import ServerRefused

if TYPE_CHECKING:
    from .driver import LdapConnection
    from .tables import Table

__all__ = ["SYNC_REQUEST", "LdapChangeFeed"]

SYNC_REQUEST = "1.3.6.1.4.1.4203.1.9.1.1"
SYNC_STATE = "1.3.6.1.4.1.4203.1.9.1.2"
SYNC_DONE = "1.3.6.1.4.1.4203.1.9.1.3"
SYNC_INFO = "1.3.6.1.4.1.4203.1.9.1.4"
#: The server cannot continue from the cookie: the client must read everything again.
E_SYNC_REFRESH_REQUIRED = 4096
_REFRESH_ONLY = 1
_PRESENT, _ADD, _MODIFY, _DELETE = 0, 1, 2, 3


# -- RFC 4533's values, as pyasn1 types ---------------------------------------------------


class _SyncRequestValue(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("mode", univ.Enumerated()),
        namedtype.OptionalNamedType("cookie", univ.OctetString()),
        namedtype.DefaultedNamedType("reloadHint", univ.Boolean(False)),
    )


class _SyncStateValue(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("state", univ.Enumerated()),
        namedtype.NamedType("entryUUID", univ.OctetString()),
        namedtype.OptionalNamedType("cookie", univ.OctetString()),
    )


class _SyncDoneValue(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("cookie", univ.OctetString()),
        namedtype.DefaultedNamedType("refreshDeletes", univ.Boolean(False)),
    )


class _RefreshPhase(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("cookie", univ.OctetString()),
        namedtype.DefaultedNamedType("refreshDone", univ.Boolean(True)),
    )


class _IdSet(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("cookie", univ.OctetString()),
        namedtype.DefaultedNamedType("refreshDeletes", univ.Boolean(False)),
        namedtype.NamedType("syncUUIDs", univ.SetOf(componentType=univ.OctetString())),
    )


def _tagged(base: Any, kind: int, number: int) -> Any:
    """``base`` with the context-specific implicit tag ``[number]``."""
    implicit = tag.Tag(tag.tagClassContext, kind, number)
    return base.subtype(implicitTag=implicit)


class _SyncInfoValue(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("newcookie", _tagged(univ.OctetString(), tag.tagFormatSimple, 0)),
        namedtype.NamedType("refreshDelete", _tagged(_RefreshPhase(), tag.tagFormatConstructed, 1)),
        namedtype.NamedType(
            "refreshPresent", _tagged(_RefreshPhase(), tag.tagFormatConstructed, 2)
        ),
        namedtype.NamedType("syncIdSet", _tagged(_IdSet(), tag.tagFormatConstructed, 3)),
    )


def _request(cookie: bytes | None) -> bytes:
    value = _SyncRequestValue()
    value["mode"] = _REFRESH_ONLY
    if cookie is not None:
        value["cookie"] = cookie
    return bytes(encoder.encode(value))


def _cookie(value: Any) -> bytes | None:
    found = value["cookie"]
    return bytes(found) if found.isValue else None


# -- one refresh --------------------------------------------------------------------------


@dataclass
class _Refresh:
    """What one sync search returned."""

    #: entryUUID -> the key's new value, for entries added or changed
    changed: dict[bytes, str] = field(default_factory=dict)
    deleted: set[bytes] = field(default_factory=set)
    present: set[bytes] = field(default_factory=set)
    #: the server named the present entries: every other one known is gone
    present_phase: bool = False
    cookie: bytes | None = None
    server: str | None = None


def _parse(response: list[dict[str, Any]], result: dict[str, Any], key: str | None) -> _Refresh:
    out = _Refresh()
    for item in response:
        kind = item.get("type")
        if kind == "searchResEntry":
            control = (item.get("controls") or {}).get(SYNC_STATE)
            if control is None:
                raise ValueError("an entry without a Sync State control")
            state, _ = decoder.decode(control["value"], asn1Spec=_SyncStateValue())
            uuid, code = bytes(state["entryUUID"]), int(state["state"])
            if code == _PRESENT:
                out.present.add(uuid)
                out.present_phase = True
            elif code == _DELETE:
                out.deleted.add(uuid)
            else:
                raw = {k.lower(): v for k, v in (item.get("raw_attributes") or {}).items()}
                values = raw.get(key, []) if key else []
                out.changed[uuid] = b";".join(values).decode("utf-8", "replace")
        elif kind == "intermediateResponse" and item.get("responseName") == SYNC_INFO:
            info, _ = decoder.decode(item["responseValue"], asn1Spec=_SyncInfoValue())
            name = info.getName()
            chosen = info.getComponent()
            if name == "newcookie":
                out.cookie = bytes(chosen)
                continue
            out.cookie = _cookie(chosen) or out.cookie
            if name == "refreshPresent":
                out.present_phase = True
            elif name == "syncIdSet":
                uuids = {bytes(u) for u in chosen["syncUUIDs"]}
                if bool(chosen["refreshDeletes"]):
                    out.deleted |= uuids
                else:
                    out.present |= uuids
                    out.present_phase = True
    done = (result.get("controls") or {}).get(SYNC_DONE)
    if done is not None:
        value, _ = decoder.decode(done["value"], asn1Spec=_SyncDoneValue())
        out.cookie = _cookie(value) or out.cookie
        if not bool(value["refreshDeletes"]):
            out.present_phase = True
    return out


@dataclass
class _Watched:
    """One table being watched: its search, its key, the cookie and each entry's key."""

    name: str
    meta: Table
    column: str | None
    key: str | None
    cookie: bytes | None = None
    keys: dict[bytes, str] = field(default_factory=dict)


class LdapChangeFeed(ChangeFeed):
    """Changes to one connection's tables, by a polled RFC 4533 sync search."""

    kind = "poll"

    def __init__(self, connection: LdapConnection) -> None:
        self.connection = connection

    def _supported(self) -> bool:
        found = self.connection.pool.search(
            "", ldap3.BASE, "(objectClass=*)", ["supportedControl"], paged=False
        )
        for entry in found:
            raw = {k.lower(): v for k, v in (entry.get("raw_attributes") or {}).items()}
            if SYNC_REQUEST.encode() in raw.get("supportedcontrol", []):
                return True
        return False

    def ready(self, tables: Collection[str]) -> frozenset[str]:
        if not tables or not self._supported():
            return frozenset()
        out = set()
        for name in tables:
            try:
                self.connection.table(name, name)
            except QueryError:
                continue
            out.add(name)
        return frozenset(out)

    def subscribe(self, tables: Mapping[str, str | None], *, interval: float) -> Subscription:
        covered = self.ready(tables)
        return _SyncPoll(self.connection, {t: tables[t] for t in covered}, interval)


class _SyncPoll(Subscription):
    """Every ``interval`` seconds, one sync search per table with its cookie."""

    def __init__(
        self, connection: LdapConnection, tables: Mapping[str, str | None], interval: float
    ) -> None:
        self.tables = frozenset(tables)
        self.bound = interval
        self._conn = connection
        self._watched: list[_Watched] = []
        for name, column in tables.items():
            meta = connection.table(name, name)
            key = meta.column(column, name).key if column else None
            self._watched.append(_Watched(name, meta, column, key))
        self._server: str | None = None
        self._start()
        self._next = time.monotonic() + interval
        self._closed = False

    def _start(self) -> None:
        """Read every watched table afresh: each entry's key, and a cookie (all from one
        server: if the reads move to another one meanwhile, once more)."""
        for _ in range(3):
            self._server = None
            try:
                for watched in self._watched:
                    watched.cookie, watched.keys = None, {}
                    found = self._search(watched)
                    watched.keys = dict(found.changed)
                    watched.cookie = found.cookie
            except _Moved:
                continue
            return
        raise BackendError(f"{self._conn.label}: the reads keep moving between servers")

    def _search(self, watched: _Watched) -> _Refresh:
        meta = watched.meta
        filters = meta.filters
        search_filter = filters[0] if len(filters) == 1 else "(&" + "".join(filters) + ")"
        pool = self._conn.pool
        what = f"sync search of table {meta.name!r}"

        def request(conn: ldap3.Connection) -> tuple[_Refresh, int, dict[str, Any]]:
            conn.search(
                meta.base,
                search_filter,
                meta.scope,
                ldap3.DEREF_NEVER,  # syncprov refuses anything else
                [watched.key] if watched.key else ["1.1"],
                0,
                pool.time_limit,
                controls=[(SYNC_REQUEST, True, _request(watched.cookie))],
            )
            result = dict(conn.result)
            code = int(result.get("result", -1))
            if code != 0:
                return _Refresh(), code, result
            try:
                found = _parse(list(conn.response or []), result, watched.key)
            except (PyAsn1Error, ValueError, KeyError) as exc:
                raise BackendError(
                    f"{pool.label}: {what}: an answer not RFC 4533's: {exc}"
                ) from None
            listed = pool.servers.of(conn.server)
            found.server = listed.url if listed is not None else None
            return found, code, result

        try:
            found, code, result = pool.run(request, what)
        except ServerRefused as exc:
            raise BackendError(f"{pool.label}: {what}: {exc}") from None
        if code == E_SYNC_REFRESH_REQUIRED:
            raise _RefreshRequired
        if code != 0:
            raise BackendError(
                f"{pool.label}: {what}: {result.get('description')} "
                f"({str(result.get('message') or '').strip()})"
            )
        if self._server is None:
            self._server = found.server
        elif found.server != self._server:
            raise _Moved
        return found

    def wait(self, timeout: float) -> list[Change] | None:
        if self._closed:
            raise BackendError(f"{self._conn.label}: the subscription is closed")
        delay = self._next - time.monotonic()
        if delay > timeout:
            time.sleep(timeout)
            return []
        if delay > 0:
            time.sleep(delay)
        self._next = time.monotonic() + self.bound
        out: list[Change] = []
        try:
            for watched in self._watched:
                out.extend(self._changes(watched, self._search(watched)))
        except (_RefreshRequired, _Moved):
            self._start()  # what changed meanwhile cannot be told: every table anew
            return None
        return out

    @staticmethod
    def _changes(watched: _Watched, found: _Refresh) -> list[Change]:
        keys = watched.keys
        touched: set[str] = set()
        whole = False
        gone = set(found.deleted)
        if found.present_phase:  # what the server neither changed nor named is gone
            gone |= {u for u in keys if u not in found.present and u not in found.changed}
        for uuid in gone:
            old = keys.pop(uuid, None)
            if old is None:
                whole = True  # an entry we never knew: its key cannot be told
            else:
                touched.add(old)
        for uuid, new in found.changed.items():
            old = keys.get(uuid)
            if old is not None:
                touched.add(old)
            touched.add(new)
            keys[uuid] = new
        if found.cookie is not None:
            watched.cookie = found.cookie
        if not (touched or whole):
            return []
        if whole or watched.column is None:
            return [Change(watched.name)]
        return [Change(watched.name, watched.column, frozenset(touched))]

    def close(self) -> None:
        self._closed = True


class _RefreshRequired(Exception):
    """The server asks for a full refresh (``e-syncRefreshRequired``)."""


class _Moved(Exception):
    """The search went to another server than the one the cookie came from."""
