"""The same tables as an LDAP schema, for the ``ldap`` driver (``ara-ldap``).

A directory has no tables to create on request: its administrator loads attribute types and
object classes, and ``res_ldap.conf`` maps each table's columns to attributes. From the one
definition of :mod:`ara_realtime.schema`, :func:`ldif` renders, per family, an OpenLDAP schema
entry in cn=config form (``realtime schema FAMILY --dialect ldap``, loaded with ``ldapadd -Y
EXTERNAL -H ldapi:/// -f FILE``), and :func:`res_ldap` the ``res_ldap.conf`` section that maps
the family's table onto it (``--dialect res_ldap``):

* one attribute type per column, named ``ara`` + table + column in camel case
  (``sippeers.session-timers`` is ``araSippeersSessionTimers``, ``ps_endpoints.100rel``
  ``araPsEndpoints100rel``, ``ps_outbound_publishes.@body`` ``araPsOutboundPublishesAtBody``);
  single-valued; integer columns of INTEGER syntax (compared and ordered as numbers), every
  other column an octet string matched byte for byte, which is what the contract's exact
  matching asks (``ara-ldap`` filters on the server as far as the rules allow);
* one structural object class per table (``araSippeers``), naming its entries by ``cn`` and
  allowing every column's attribute; new rows get it and a random ``cn``;
* object identifiers under their own UUID arc (X.667: no registration), the last two numbers
  derived from the table's and the column's names, so they do not change when columns are
  added.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

from sqlalchemy import Table, types

from ..errors import ConfigError
from . import FAMILIES, table_for

__all__ = ["ARC", "attribute_name", "class_name", "ldif", "res_ldap"]

#: The object identifier arc of these schemas: 2.25.<UUID 379ebb2a-0f00-405b-a20b-cd4c9f8201f7>.
ARC = "2.25.73931718814640163305594106383872164343"
_INTEGER = (
    "EQUALITY integerMatch ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27"
)
_OCTETS = (
    "EQUALITY octetStringMatch ORDERING octetStringOrderingMatch "
    "SUBSTR octetStringSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40"
)
_WORD = re.compile(r"[A-Za-z0-9]+")


def _camel(name: str) -> str:
    name = name.replace("@", "at_")
    return "".join(w[0].upper() + w[1:] for w in _WORD.findall(name))


def class_name(table: str) -> str:
    """The object class of a table's rows: ``araSippeers``."""
    return "ara" + _camel(table)


def attribute_name(table: str, column: str) -> str:
    """The attribute of a column: ``araSippeersSessionTimers``."""
    return class_name(table) + _camel(column)


def _number(name: str) -> int:
    return zlib.crc32(name.encode())


def _tables(families: Sequence[str]) -> list[Table]:
    tables: list[Table] = []
    for family in families or FAMILIES:
        table = table_for(family)
        if table not in tables:
            tables.append(table)
    return tables


def _attributes(table: Table) -> list[tuple[str, str, str]]:
    """``(column, attribute, definition)`` for each column, names checked to be unique."""
    out: list[tuple[str, str, str]] = []
    seen: dict[str, str] = {}
    for col in table.columns:
        name = attribute_name(table.name, col.name)
        if name.lower() in seen:  # pragma: no cover - a definition mistake, caught by tests
            raise ConfigError(
                f"{table.name}: columns {seen[name.lower()]!r} and {col.name!r} map to {name}"
            )
        seen[name.lower()] = col.name
        rules = _INTEGER if isinstance(col.type, types.Integer) else _OCTETS
        oid = f"{ARC}.1.{_number(table.name)}.{_number(col.name)}"
        desc = f"{table.name}.{col.name}".replace("'", "")
        out.append((col.name, name, f"( {oid} NAME '{name}' DESC '{desc}' {rules} SINGLE-VALUE )"))
    return out


def _object_class(table: Table, attributes: list[tuple[str, str, str]]) -> str:
    oid = f"{ARC}.2.{_number(table.name)}"
    may = " $ ".join(name for _, name, _ in attributes)
    return (
        f"( {oid} NAME '{class_name(table.name)}' DESC 'a row of {table.name}' SUP top "
        f"STRUCTURAL MUST cn MAY ( {may} ) )"
    )


def _fold(line: str, width: int = 76) -> str:
    """An LDIF line folded at ``width`` (RFC 2849: continuations start with one space)."""
    out = [line[:width]]
    rest = line[width:]
    while rest:
        out.append(" " + rest[: width - 1])
        rest = rest[width - 1 :]
    return "\n".join(out)


def ldif(families: Sequence[str] = ()) -> str:
    """The cn=config schema entries of ``families`` (every family when empty), one each."""
    entries = []
    for table in _tables(families):
        attributes = _attributes(table)
        lines = [
            f"dn: cn=ara-{table.name},cn=schema,cn=config",
            "objectClass: olcSchemaConfig",
            f"cn: ara-{table.name}",
            *(f"olcAttributeTypes: {d}" for _, _, d in attributes),
            f"olcObjectClasses: {_object_class(table, attributes)}",
        ]
        entries.append("\n".join(map(_fold, lines)) + "\n")
    header = (
        "# Asterisk's realtime tables as OpenLDAP schema entries (cn=config), from\n"
        "# ara-realtime's definitions. Load with:\n"
        "#   ldapadd -Y EXTERNAL -H ldapi:/// -f FILE\n"
    )
    return header + "\n" + "\n".join(entries)


def res_ldap(families: Sequence[str] = ()) -> str:
    """The ``res_ldap.conf`` sections mapping each family's table onto :func:`ldif`'s
    attributes (a section is named like the table; the extconfig mapping names it)."""
    sections = []
    for table in _tables(families):
        lines = [f"[{table.name}]"]
        lines += [f"{column} = {name}" for column, name, _ in _attributes(table)]
        cls = class_name(table.name)
        lines += [
            f"additionalFilter = (objectClass={cls})",
            f"objectClasses = {cls}",
            "rdnAttribute = cn",
        ]
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)
