"""Tables: which entries are a table's rows, and which attribute holds each column.

A table comes from one of two places:

* a section of ``res_ldap.conf`` (Asterisk's layout): the rows are the entries under the
  extconfig base DN (subtree) that match the section's and ``[_general]``'s
  ``additionalFilter``; the columns are the section's mappings, then ``[_general]``'s;
* an ``araTable`` entry ``ou=<table>,<base DN>`` (ara-ldap's own layout, see the shipped
  schema): the rows are the entries right below it; its ``araColumn`` values map the columns
  in order, ``araObjectClass`` and ``araRdnAttribute`` describe new rows and
  ``araAdditionalFilter`` narrows them.

Column names are matched like Asterisk matches them (letter case ignored); rows use the
table's own spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ara_realtime import ConfigError, QueryError

from .config import TableSection, check_attribute, check_filter
from .filters import sort_key
from .pool import Scope
from .schema import AttributeInfo, lookup

__all__ = ["CONTAINER_ATTRIBUTES", "Column", "Table", "from_container", "from_section"]

#: What is read from an ``araTable`` entry.
CONTAINER_ATTRIBUTES = ["araColumn", "araObjectClass", "araRdnAttribute", "araAdditionalFilter"]
_ORDERED = re.compile(r"\{(\d+)\}(.*)", re.DOTALL)


@dataclass(frozen=True)
class Column:
    """One column: its name, the attribute holding it (and its lower-case key)."""

    name: str
    attr: str
    key: str
    info: AttributeInfo

    @property
    def integer(self) -> bool:
        return self.info.integer


@dataclass
class Table:
    """A resolved table (cached per connection until ``unload``)."""

    name: str
    base: str
    scope: Scope
    filters: tuple[str, ...]
    columns: tuple[Column, ...]
    object_classes: tuple[str, ...]
    rdn_attribute: str
    container: bool
    by_name: dict[str, Column] = field(default_factory=dict)
    by_fold: dict[str, Column] = field(default_factory=dict)
    attributes: list[str] = field(default_factory=list)
    plans: dict[Any, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for col in self.columns:
            self.by_name[col.name] = col
            self.by_fold.setdefault(col.name.lower(), col)
        self.attributes = list(dict.fromkeys(col.attr for col in self.columns))
        if not self.filters:
            self.filters = ("(objectClass=*)",)
        self.rdn_key = self.rdn_attribute.lower()
        self.rdn_column = next((c for c in self.columns if c.key == self.rdn_key), None)
        self.sort_keys = {col.name: sort_key(col.integer) for col in self.columns}

    def column(self, name: str, family: str) -> Column:
        """The column ``name`` (case-insensitive), or a ``QueryError`` naming it."""
        col = self.by_name.get(name) or self.by_fold.get(name.lower())
        if col is None:
            raise QueryError(
                f"family {family!r}: LDAP table {self.name!r} has no column {name!r}",
                family=family,
                table=self.name,
                field=name,
            )
        return col

    def row(self, values: Mapping[str, str]) -> dict[str, str]:
        """The contract's row: columns in table order, absent and empty ones left out."""
        out: dict[str, str] = {}
        for col in self.columns:
            value = values.get(col.key)
            if value:
                out[col.name] = value
        return out


def _columns(
    pairs: Iterable[tuple[str, str]], types: Mapping[str, AttributeInfo], where: str
) -> tuple[Column, ...]:
    out: dict[str, Column] = {}
    for name, attr in pairs:
        fold = name.lower()
        previous = next((c for c in out.values() if c.name.lower() == fold), None)
        col = Column(previous.name if previous else name, attr, attr.lower(), lookup(types, attr))
        out[col.name] = col  # mapped twice: the last line wins (as in Asterisk), first place
    if not out:
        raise ConfigError(f"{where}: the table maps no column to an attribute")
    return tuple(out.values())


def from_section(
    section: TableSection,
    general: TableSection,
    base: str,
    types: Mapping[str, AttributeInfo],
) -> Table:
    """A table defined by a ``res_ldap.conf`` section (Asterisk's layout)."""
    own = {name.lower() for name, _ in section.mappings}
    pairs = [*section.mappings, *((n, a) for n, a in general.mappings if n.lower() not in own)]
    return Table(
        name=section.name,
        base=base,
        scope="SUBTREE",
        filters=(*section.filters, *general.filters),
        columns=_columns(pairs, types, f"[{section.name}] of res_ldap.conf"),
        object_classes=tuple(section.object_classes or general.object_classes),
        rdn_attribute=section.rdn_attribute or general.rdn_attribute or "cn",
        container=False,
    )


def _text(values: Sequence[bytes]) -> list[str]:
    return [v.decode("utf-8") for v in values]


def from_container(
    name: str, dn: str, raw: Mapping[str, Sequence[bytes]], types: Mapping[str, AttributeInfo]
) -> Table:
    """A table described by its ``araTable`` entry ``dn`` (ara-ldap's own layout)."""
    where = f"araTable entry {dn!r}"
    attrs = {k.lower(): _text(v) for k, v in raw.items()}
    ordered: list[tuple[int, int, str]] = []
    for i, value in enumerate(attrs.get("aracolumn", [])):
        match = _ORDERED.fullmatch(value)
        position, text = (int(match.group(1)), match.group(2)) if match else (i, value)
        ordered.append((position, i, text))
    pairs: list[tuple[str, str]] = []
    for _, _, text in sorted(ordered):
        column, _, attr = text.strip().partition(" ")
        if not column or not attr.strip():
            raise ConfigError(f"{where}: araColumn {text!r} is not '<column> <attribute>'")
        pairs.append((column, check_attribute(attr.strip())))
    filters = tuple(check_filter(f) for f in attrs.get("araadditionalfilter", []))
    classes = [oc for value in attrs.get("araobjectclass", []) for oc in re.split(r"[\s,]+", value)]
    rdn = (attrs.get("arardnattribute") or ["cn"])[0].strip()
    return Table(
        name=name,
        base=dn,
        scope="LEVEL",
        filters=filters,
        columns=_columns(pairs, types, where),
        object_classes=tuple(check_attribute(oc) for oc in classes if oc),
        rdn_attribute=check_attribute(rdn),
        container=True,
    )
