"""The ``ldap`` driver: a directory server through ldap3 (``family => ldap,"<base DN>",table``).

Every operation is a search whose filter narrows the candidates as far as the attributes'
matching rules allow (:mod:`ara_ldap.filters`), then an exact check of every condition on the
client, so results are the contract's whatever the directory folds or normalises. Writes are
``add`` (``store``), ``modify`` with replace (``update``/``update2``; an empty value deletes the
attribute) and ``delete`` (``destroy``), one request per matched entry; the counts are the
entries matched (updated) or deleted. Several values of one attribute read as one value joined
with ``;``. Settings come from Asterisk's ``res_ldap.conf`` (:mod:`ara_ldap.config`); tables
from its sections or from ``araTable`` entries (:mod:`ara_ldap.tables`).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import ldap3

from ara_realtime import BackendError, Capabilities, ConfigError, QueryError
from ara_realtime.changes import ChangeFeed
from ara_realtime.conditions import Condition
from ara_realtime.datatypes import Requirement, Row, StaticRow
from ara_realtime.driver import Connection, ConnectionDriver
from ara_realtime.status import SideStatus

from .changes import LdapChangeFeed
from .config import STATIC_SECTION, Settings, base_dn, read_settings
from .filters import escape_rdn, escape_value, matcher, number, prefilter
from .pool import Found, Pool, ServerRefused
from .schema import AttributeInfo, parse_attribute_types
from .tables import CONTAINER_ATTRIBUTES, Column, Table, from_container, from_section
from .writes import Writes

__all__ = ["CAPABILITIES", "LdapConnection", "driver"]

log = logging.getLogger("ara_ldap")

_NOTES = {
    "codec": "values stored as they are, as Asterisk's LDAP driver stores them",
    "case_insensitive": "exact: every condition is checked on the client, whatever the "
    "attribute's matching rule",
    "text_order": "code points, on the client",
    "require_create": (
        "require checks columns against the directory's schema; it cannot create attribute "
        "types, so tables are res_ldap.conf sections or araTable entries"
    ),
    "change_feed": "an RFC 4533 sync search (refreshOnly) polled with its cookie on the server "
    "reads go to; needs OpenLDAP's syncprov overlay there",
}
#: Every operation; exact matching and code-point order (checked on the client).
CAPABILITIES = Capabilities.full(change_feed="poll", notes=_NOTES)

#: Result codes that are the caller's mistake (the same request fails on any server).
_QUERY_CODES = frozenset({16, 17, 18, 19, 20, 21, 34, 64, 65, 66, 67, 68, 69})
_NO_SUCH_OBJECT = 32
#: Entries a ``load`` reads in its first, unpaged search (candidates the server's rules
#: matched, e.g. case variants of a name).
_LOAD_PROBE = 16
#: Bytes of a request beyond its values (the PDU, DN, attribute names), kept free of the limit.
_REQUEST_OVERHEAD = 64 * 1024
_ALREADY_EXISTS = 68
_STATIC = {
    "filename": ("filename",),
    "category": ("category",),
    "var_name": ("var_name", "variable_name"),
    "var_val": ("var_val", "variable_value"),
    "cat_metric": ("cat_metric",),
    "var_metric": ("var_metric",),
    "commented": ("commented",),
}
# The values of `commented` that mean "not commented out" (Asterisk's LDAP driver filters on
# commented=FALSE). An entry without the attribute is not active, as a NULL commented is not
# in the SQL drivers (`commented = 0`).
_INACTIVE_WORDS = frozenset({"0", "false", "no", "off"})

#: What one entry becomes before the exact checks: attribute key -> values joined with ``;``.
Values = dict[str, str]


def _values(raw: Mapping[str, list[bytes]]) -> Values:
    out: Values = {}
    for name, values in raw.items():
        if values:
            out[name.lower()] = b";".join(values).decode("utf-8")
    return out


#: What a status check asks of the root DSE: a filter and the attributes.
_ROOT_DSE = ("(objectClass=*)", ["vendorName", "vendorVersion", "supportedLDAPVersion"])


class LdapConnection(Connection):
    """One base DN on one directory server: a pool of bound connections and resolved tables."""

    CAPABILITIES = CAPABILITIES

    def __init__(self, database: str, settings: Settings) -> None:
        self.database = database
        self.base = base_dn(database) or base_dn(settings.basedn)
        if not self.base:
            raise ConfigError(
                "ldap: the extconfig database (the base DN) is empty and no basedn is set"
            )
        self.settings = settings
        self.label = f"ldap {settings.url} base {self.base!r}"
        self.pool = Pool(settings, self.label)
        self.writes = Writes(settings, self.label, self.pool, self.base)
        self._tables: dict[str, Table] = {}
        self._types: dict[str, AttributeInfo] | None = None
        self._lock = threading.RLock()

    @classmethod
    def open(
        cls, database: str, settings: Mapping[str, str], config_dir: Path | None
    ) -> LdapConnection:
        return cls(database, read_settings(database, settings, config_dir))

    def __repr__(self) -> str:
        return f"<LdapConnection {self.label}>"

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def close(self) -> None:
        self.pool.close()
        self.writes.close()

    def change_feed(self) -> ChangeFeed:
        """Changes by a polled sync search on the server reads go to (:mod:`.changes`)."""
        return LdapChangeFeed(self)

    def status(self) -> Mapping[str, Any]:
        """The server's name and version from its root DSE (a round trip) and the pools.

        With ``write_url``, the servers writes go to are asked too, and each side reported
        (``sides``): live consumers do not hide a dead provider.
        """
        if self.writes.configured is None:
            return self._status(self.pool.search("", ldap3.BASE, *_ROOT_DSE, paged=False))
        found: Found | None = None
        sides: dict[str, SideStatus] = {}
        for side, pool in (("read", self.pool), ("write", self.writes.configured)):
            try:
                answer = pool.search("", ldap3.BASE, *_ROOT_DSE, paged=False)
            except BackendError as exc:
                sides[side] = SideStatus("down", error=str(exc))
            else:
                found = answer if found is None else found
                sides[side] = SideStatus("up", pool.current_url())
        return {**self._status(found), "sides": sides}

    def _status(self, found: Found | None) -> Mapping[str, Any]:
        """What the root DSE (``None``: no server answered) and the pools say."""
        raw = {
            k.lower(): v for k, v in (found[0].get("raw_attributes", {}) if found else {}).items()
        }
        words = [
            b" ".join(raw.get(k, [])).decode("utf-8", "replace")
            for k in ("vendorname", "vendorversion")
        ]
        versions = b", ".join(raw.get("supportedldapversion", [])).decode("ascii", "replace")
        server: str | None = (
            " ".join(w for w in words if w) or f"LDAP server (protocol versions {versions or '?'})"
        )
        if found is None:
            server = None
        pools = {"ldap": self.pool.status()}
        pools.update((name, pool.status()) for name, pool in self.writes.pools())
        out = [
            f"{url}: {reason}"
            for pool in (self.pool, *(p for _, p in self.writes.pools()))
            for url, up, reason in pool.statuses()
            if not up
        ]
        detail = f"{self.label}; servers out: {'; '.join(out)}" if out else self.label
        return {"server": server, "detail": detail, "pools": pools}

    # -- errors -------------------------------------------------------------------------

    def _fail(self, result: Mapping[str, Any], what: str, family: str, table: str) -> Exception:
        code = result.get("result")
        text = f"{result.get('description')}"
        message = str(result.get("message") or "").strip()
        if message:
            text += f" ({message})"
        if code in _QUERY_CODES:
            return QueryError(f"family {family!r}: {what}: {text}", family=family, table=table)
        if code == 4:
            text += "; raise the server's size limit for the bind DN (OpenLDAP: limits, size=)"
        return BackendError(f"{self.label}: {what}: {text}")

    # -- schema and tables --------------------------------------------------------------

    def _attribute_types(self) -> dict[str, AttributeInfo]:
        types = self._types
        if types is not None:
            return types
        root = self.pool.search(
            "", ldap3.BASE, "(objectClass=*)", ["subschemaSubentry"], paged=False
        )
        dn = "cn=Subschema"
        for entry in root:
            found = entry.get("raw_attributes", {}).get("subschemaSubentry")
            if found:
                dn = found[0].decode("utf-8")
        entries = self.pool.search(
            dn, ldap3.BASE, "(objectClass=subschema)", ["attributeTypes"], paged=False
        )
        definitions: list[str] = []
        for entry in entries:
            for name, values in entry.get("raw_attributes", {}).items():
                if name.lower() == "attributetypes":
                    definitions.extend(v.decode("utf-8") for v in values)
        if not definitions:
            raise BackendError(f"{self.label}: the subschema entry {dn!r} lists no attributeTypes")
        self._types = types = parse_attribute_types(definitions)
        return types

    def table(self, name: str, family: str, *, static: bool = False) -> Table:
        """The resolved table ``name`` (a section, ``[config]`` for static files, or an entry)."""
        found = self._tables.get(name)
        if found is not None:
            return found
        with self._lock:
            found = self._tables.get(name)
            if found is None:
                found = self._resolve(name, family, static)
                self._tables[name] = found
            return found

    def _resolve(self, name: str, family: str, static: bool) -> Table:
        types = self._attribute_types()
        sections = self.settings.sections
        section = sections.get(name)
        if section is None and static:
            section = sections.get(STATIC_SECTION)
        if section is not None:
            return from_section(section, self.settings.general, self.base, types)
        dn = f"ou={escape_rdn(name)},{self.base}"
        try:
            entries = self.pool.search(
                dn, ldap3.BASE, "(objectClass=araTable)", CONTAINER_ATTRIBUTES, paged=False
            )
        except ServerRefused as exc:
            if exc.result.get("result") != _NO_SUCH_OBJECT:
                raise self._fail(exc.result, f"reading table {name!r}", family, name) from None
            entries = Found()
            if not _same_dn(str(exc.result.get("dn") or ""), self.base):
                raise BackendError(
                    f"{self.label}: the base DN does not exist in the directory"
                ) from None
        for entry in entries:
            if entry.get("type") == "searchResEntry":
                return from_container(name, entry["dn"], entry["raw_attributes"], types)
        raise QueryError(
            f"family {family!r}: LDAP table {name!r} is neither a [{name}] section of "
            f"res_ldap.conf nor an araTable entry {dn!r}",
            family=family,
            table=name,
        )

    def unload(self, family: str, table: str) -> bool:
        with self._lock:
            had = self._tables.pop(table, None) is not None
            self._types = None
        return had

    # -- reading ------------------------------------------------------------------------

    def _plan(
        self, table: Table, conds: Iterable[Condition], family: str
    ) -> tuple[str, list[tuple[str, Callable[[str], bool]]], bool]:
        """The server filter, the exact checks (attribute key, test) and whether the filter
        alone is already exact (then one entry is enough for ``load``)."""
        clauses = list(table.filters)
        checks: list[tuple[str, Callable[[str], bool]]] = []
        exact = True
        for cond in conds:
            col = table.column(cond.column, family)
            try:
                if not cond.value.isascii():
                    cond.value.encode("utf-8")  # lone surrogates cannot be sent
                clause = prefilter(col.attr, col.info, cond.op, cond.value)
            except UnicodeEncodeError:
                raise QueryError(
                    f"family {family!r}: the value for {cond.column!r} is not valid Unicode text",
                    family=family,
                    table=table.name,
                    field=cond.column,
                ) from None
            if clause is None:
                exact = False
            else:
                clauses.append(clause)
                exact = exact and _is_exact(col, cond)
            checks.append((col.key, matcher(cond.op, cond.value, col.integer)))
        if len(clauses) == 1:
            return clauses[0], checks, exact
        return "(&" + "".join(clauses) + ")", checks, exact

    def _search(
        self,
        table: Table,
        family: str,
        search_filter: str,
        attributes: list[str],
        *,
        size_limit: int = 0,
        enough: Callable[[list[dict[str, Any]]], bool] | None = None,
        pool: Pool | None = None,
    ) -> Found:
        self._check_size(family, table.name, len(search_filter.encode("utf-8")))
        try:
            return (pool or self.pool).search(
                table.base,
                table.scope,
                search_filter,
                attributes,
                size_limit=size_limit,
                paged=not size_limit,
                enough=enough,
            )
        except ServerRefused as exc:
            if exc.result.get("result") == _NO_SUCH_OBJECT and table.container:
                self.unload(family, table.name)
                raise QueryError(
                    f"family {family!r}: LDAP table {table.name!r} ({table.base!r}) is gone",
                    family=family,
                    table=table.name,
                ) from None
            raise self._fail(
                exc.result, f"search of table {table.name!r}", family, table.name
            ) from None

    def _matching(
        self,
        table: Table,
        family: str,
        conds: tuple[Condition, ...],
        *,
        first: bool = False,
        pool: Pool | None = None,
    ) -> list[tuple[str, Values]]:
        """``(dn, values)`` of the entries matching every condition exactly (searched in
        ``pool``: the read pool by default; writes find their entries where they write)."""
        search_filter, checks, exact = self._plan(table, conds, family)

        def good(values: Values) -> bool:
            for key, test in checks:  # noqa: SIM110  (a loop: cheaper than all() per entry)
                if not test(values.get(key, "")):
                    return False
            return True

        def enough(page: list[dict[str, Any]]) -> bool:
            return any(
                e.get("type") == "searchResEntry" and good(_values(e["raw_attributes"]))
                for e in page
            )

        out: list[tuple[str, Values]] = []
        if first:
            # one plain search with a small size limit finds the row in the common case (one
            # candidate, or an exact server filter); only when the limit cut it short without
            # an exact match are the remaining candidates paged through
            limit = 1 if exact else _LOAD_PROBE
            entries = self._search(
                table, family, search_filter, table.attributes, size_limit=limit, pool=pool
            )
            self._collect(entries, good, out, first=True)
            if out or not entries.truncated:
                return out
        entries = self._search(
            table,
            family,
            search_filter,
            table.attributes,
            enough=enough if first else None,
            pool=pool,
        )
        self._collect(entries, good, out, first=first)
        return out

    def _collect(
        self,
        entries: list[dict[str, Any]],
        good: Callable[[Values], bool],
        out: list[tuple[str, Values]],
        *,
        first: bool,
    ) -> None:
        for entry in entries:
            if entry.get("type") != "searchResEntry":
                continue
            try:
                values = _values(entry["raw_attributes"])
            except UnicodeDecodeError:
                raise BackendError(
                    f"{self.label}: entry {entry['dn']!r} holds a value that is not UTF-8"
                ) from None
            if good(values):
                out.append((entry["dn"], values))
                if first:
                    return

    def load(self, family: str, table: str, conds: tuple[Condition, ...]) -> Row | None:
        meta = self.table(table, family)
        found = self._matching(meta, family, conds, first=True)
        return meta.row(found[0][1]) if found else None

    def load_multi(self, family: str, table: str, conds: tuple[Condition, ...]) -> list[Row]:
        meta = self.table(table, family)
        found = self._matching(meta, family, conds)
        rows = [meta.row(values) for _, values in found]
        col = meta.column(conds[0].column, family)
        key = meta.sort_keys[col.name]
        rows.sort(key=lambda row: key(row.get(col.name, "")))
        return rows

    # -- writing ------------------------------------------------------------------------

    def _encode(
        self, meta: Table, family: str, values: tuple[tuple[str, str], ...]
    ) -> dict[str, tuple[Column, str]]:
        """``attribute key -> (column, value)`` for a write; every caller mistake refused first."""
        out: dict[str, tuple[Column, str]] = {}
        for name, value in values:
            col = meta.column(name, family)
            if not col.info.known:
                raise QueryError(
                    f"family {family!r}: column {name!r} of LDAP table {meta.name!r} maps to "
                    f"{col.attr!r}, which the directory's schema does not define",
                    family=family,
                    table=meta.name,
                    field=name,
                )
            if value and col.integer and number(value) is None:
                raise QueryError(
                    f"family {family!r}: column {name!r} of LDAP table {meta.name!r} holds "
                    "integers; the value given is not one",
                    family=family,
                    table=meta.name,
                    field=name,
                )
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise QueryError(
                    f"family {family!r}: the value of {name!r} is not valid Unicode text",
                    family=family,
                    table=meta.name,
                    field=name,
                ) from None
            if value and col.integer:
                value = str(number(value))  # the canonical form INTEGER syntax requires
            other = out.get(col.key)
            if other is not None and other[1] != value:
                raise QueryError(
                    f"family {family!r}: columns {other[0].name!r} and {name!r} both map to "
                    f"{col.attr!r} but are given different values",
                    family=family,
                    table=meta.name,
                    field=name,
                )
            out[col.key] = (col, value)
        return out

    def _check_size(self, family: str, table: str, size: int) -> None:
        """``QueryError`` for a request the directory would not take (it drops the connection,
        which would look like a backend failure: failover, back-off, on every backend)."""
        limit = self.settings.max_request_size - _REQUEST_OVERHEAD
        if size > limit:
            raise QueryError(
                f"family {family!r}, LDAP table {table!r}: the values are too large for the "
                f"directory: about {size:,} bytes, its limit is max_request_size = "
                f"{self.settings.max_request_size:,} (slapd's sockbuf_max_incoming_auth)",
                family=family,
                table=table,
            )

    def store(self, family: str, table: str, values: tuple[tuple[str, str], ...]) -> int:
        meta = self.table(table, family)
        encoded = self._encode(meta, family, values)
        self._check_size(family, meta.name, sum(len(v.encode()) for _, v in encoded.values()))
        if not meta.object_classes:
            raise QueryError(
                f"family {family!r}: LDAP table {meta.name!r} names no object classes for new "
                "entries (objectClasses in res_ldap.conf, araObjectClass in its araTable entry)",
                family=family,
                table=meta.name,
            )
        attrs: dict[str, list[bytes]] = {
            col.attr: [value.encode("utf-8")] for col, value in encoded.values() if value
        }
        if meta.rdn_column is not None:
            named = encoded.get(meta.rdn_key)
            if named is None or not named[1]:
                raise QueryError(
                    f"family {family!r}: store into LDAP table {meta.name!r} needs a value for "
                    f"{meta.rdn_column.name!r}: it names the entry ({meta.rdn_attribute})",
                    family=family,
                    table=meta.name,
                    field=meta.rdn_column.name,
                )
            rdn_value, generated = named[1], False
        else:
            rdn_value, generated = uuid.uuid4().hex, True
            attrs[meta.rdn_attribute] = [rdn_value.encode("ascii")]
        dn = f"{meta.rdn_attribute}={escape_rdn(rdn_value)},{meta.base}"

        def add(conn: ldap3.Connection) -> Any:
            return conn.add(dn, list(meta.object_classes), attrs)  # type: ignore[no-untyped-call]

        result = self.writes.write(add, f"add to table {meta.name!r}")
        code = result.get("result")
        if code == 0 or (code == _ALREADY_EXISTS and generated and result["resent"]):
            return 1  # (a retried add of our own unique name: the first one got through)
        if code == _ALREADY_EXISTS:
            raise QueryError(
                f"family {family!r}: LDAP table {meta.name!r} already has an entry named by "
                f"that value of {meta.rdn_attribute} (the directory's matching rule decides)",
                family=family,
                table=meta.name,
                field=meta.rdn_column.name if meta.rdn_column else None,
            )
        raise self._fail(result, f"add to table {meta.name!r}", family, meta.name)

    def update2(
        self,
        family: str,
        table: str,
        conds: tuple[Condition, ...],
        values: tuple[tuple[str, str], ...],
    ) -> int:
        meta = self.table(table, family)
        encoded = self._encode(meta, family, values)
        if meta.rdn_key in encoded:
            col = encoded[meta.rdn_key][0]
            raise QueryError(
                f"family {family!r}: column {col.name!r} of LDAP table {meta.name!r} names the "
                f"entries ({meta.rdn_attribute}); update cannot change it",
                family=family,
                table=meta.name,
                field=col.name,
            )
        changes = {
            col.attr: [(ldap3.MODIFY_REPLACE, [value.encode("utf-8")] if value else [])]
            for col, value in encoded.values()
        }
        self._check_size(family, meta.name, sum(len(v.encode()) for _, v in encoded.values()))
        count = 0
        for dn, _ in self._matching(meta, family, conds, pool=self.writes.pool):

            def modify(conn: ldap3.Connection, dn: str = dn) -> Any:
                return conn.modify(dn, changes)  # type: ignore[no-untyped-call]

            result = self.writes.write(modify, f"modify in table {meta.name!r}")
            code = result.get("result")
            if code == 0:
                count += 1
            elif code != _NO_SUCH_OBJECT:  # deleted meanwhile: no longer matched
                raise self._fail(result, f"modify in table {meta.name!r}", family, meta.name)
        return count

    def destroy(self, family: str, table: str, conds: tuple[Condition, ...]) -> int:
        meta = self.table(table, family)
        count = 0
        for dn, _ in self._matching(meta, family, conds, pool=self.writes.pool):

            def delete(conn: ldap3.Connection, dn: str = dn) -> Any:
                return conn.delete(dn)  # type: ignore[no-untyped-call]

            result = self.writes.write(delete, f"delete from table {meta.name!r}")
            code = result.get("result")
            if code == 0 or (code == _NO_SUCH_OBJECT and result["resent"]):
                count += 1  # (gone on a retry: the first, unanswered delete got through)
            elif code != _NO_SUCH_OBJECT:
                raise self._fail(result, f"delete from table {meta.name!r}", family, meta.name)
        return count

    # -- require and static configuration ------------------------------------------------

    def require(self, family: str, table: str, columns: Mapping[str, Requirement]) -> bool:
        try:
            meta = self.table(table, family)
        except QueryError:
            log.warning("family %r: LDAP table %r does not exist", family, table)
            return False
        ok = True
        for name, req in columns.items():
            col = meta.by_name.get(name) or meta.by_fold.get(name.lower())
            if col is None or not col.info.known:
                why = "is not mapped" if col is None else f"maps to unknown attribute {col.attr!r}"
                log.warning("family %r: column %r of LDAP table %r %s", family, name, table, why)
                ok = False
            elif col.integer and not req.type.is_int:
                log.warning(
                    "family %r: column %r of LDAP table %r holds integers (%s), not %s",
                    family,
                    name,
                    table,
                    col.attr,
                    req.type.name.lower(),
                )
                ok = False
        return ok

    def load_static(self, table: str, filename: str) -> list[StaticRow]:
        meta = self.table(table, filename, static=True)
        cols: dict[str, Column | None] = {}
        for role, names in _STATIC.items():
            col = next(
                (c for n in names if (c := meta.by_name.get(n) or meta.by_fold.get(n))), None
            )
            if col is None and role in ("filename", "category", "var_name", "var_val"):
                raise QueryError(
                    f"static file {filename!r}: LDAP table {meta.name!r} maps no "
                    f"{' or '.join(repr(n) for n in names)} column",
                    family=filename,
                    table=meta.name,
                    field=names[0],
                )
            cols[role] = col
        file_col = cols["filename"]
        assert file_col is not None
        found = self._matching(meta, filename, (Condition(file_col.name, "=", filename),))
        rows: list[StaticRow] = []
        for dn, values in found:

            def get(role: str, values: Values = values) -> str:
                col = cols[role]
                return values.get(col.key, "") if col is not None else ""

            commented = get("commented")
            if commented.strip().lower() not in _INACTIVE_WORDS and number(commented) != 0:
                continue
            rows.append(
                StaticRow(
                    get("category"),
                    get("var_name"),
                    get("var_val"),
                    self._metric(dn, get("cat_metric"), "cat_metric"),
                    self._metric(dn, get("var_metric"), "var_metric"),
                )
            )
        rows.sort(key=lambda r: (-r.cat_metric, r.var_metric, r.category, r.var_name))
        return rows

    def _metric(self, dn: str, text: str, what: str) -> int:
        if not text:
            return 0
        value = number(text.strip())
        if value is None:
            raise BackendError(f"{self.label}: entry {dn!r}: its {what} is not an integer")
        return value


def _is_exact(col: Column, cond: Condition) -> bool:
    """Does the server filter for ``cond`` select exactly the matching entries?"""
    info = col.info
    if cond.op in ("=", "!="):
        return info.exact_equality
    if cond.op in ("<=", ">="):
        return info.exact_ordering
    return False


def _same_dn(a: str, b: str) -> bool:
    def norm(dn: str) -> str:
        return ",".join(part.strip().lower() for part in dn.split(","))

    return norm(a) == norm(b)


def escape(value: str) -> str:
    """RFC 4515 escaping as the driver does it (for users writing their own filters)."""
    return escape_value(value)


# -- the plugin ---------------------------------------------------------------------------

#: The plugin object the ``ldap`` entry point names: every hook calls the connection's method.
driver = ConnectionDriver(LdapConnection.open, CAPABILITIES)
