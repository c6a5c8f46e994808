"""Asterisk's realtime tables, defined once as SQLAlchemy ``MetaData``.

Every well-known family's table, column for column as Asterisk's alembic scripts create them
(enumerated types included), plus the static-configuration table. Needs the ``schema`` extra
(``pip install 'ara-realtime[schema]'``: SQLAlchemy, and alembic for :func:`check`).

* :data:`METADATA`, :data:`FAMILIES`, :func:`table_for`: the definitions;
* :func:`~ara_realtime.schema.ddl.render`: ``CREATE`` statements for a database dialect;
* :mod:`ara_realtime.schema.live`: create tables through a ``Realtime``'s mappings, and
  compare live tables with these definitions;
* :data:`~ara_realtime.schema.requirements.REQUIREMENTS`: what Asterisk's modules
  ``require`` of each family.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Column, ForeignKeyConstraint, MetaData, Table, event

from ..errors import ConfigError
from ._apps import (
    AFTER_CREATE,
    AST_CONFIG,
    EXTENSIONS,
    MEETME,
    MUSICONHOLD,
    MUSICONHOLD_ENTRY,
    QUEUE_LOG,
    QUEUE_MEMBERS,
    QUEUE_RULES,
    QUEUES,
    VOICEMAIL,
    VOICEMESSAGES,
)
from ._channels import IAXFRIENDS, SIPPEERS, SIPREGS
from ._pjsip import PJSIP_TABLES, STIR_TN
from ._types import METADATA

__all__ = [
    "ALIASES",
    "FAMILIES",
    "METADATA",
    "STATIC",
    "is_static",
    "table_for",
    "tables_for",
]

#: The table of the static-configuration schema (``realtime schema ast_config``).
STATIC = AST_CONFIG.name

#: Family name -> its table, in the order the docs list them.
FAMILIES: dict[str, Table] = {
    t.name: t
    for t in (
        SIPPEERS,
        SIPREGS,
        IAXFRIENDS,
        VOICEMAIL,
        VOICEMESSAGES,
        EXTENSIONS,
        MEETME,
        QUEUES,
        QUEUE_MEMBERS,
        QUEUE_RULES,
        QUEUE_LOG,
        MUSICONHOLD,
        MUSICONHOLD_ENTRY,
        *PJSIP_TABLES.values(),
        STIR_TN,
        AST_CONFIG,
    )
}

#: Families Asterisk asks for under another name than their table's: chan_iax2 reads users
#: and peers from one ``iaxfriends`` table (extconfig's ``iaxfriends`` line maps both).
ALIASES: dict[str, str] = {"iaxusers": "iaxfriends", "iaxpeers": "iaxfriends"}


def is_static(name: str) -> bool:
    """True for a static file's mapping name (``extensions.conf``, ``global``)."""
    return name.lower() == "global" or name.lower().endswith(".conf")


def table_for(name: str) -> Table:
    """The table definition for a family (``sippeers``), an alias (``iaxpeers``), or a static
    file's mapping name (``extensions.conf``, ``global``: the static-configuration table).

    :raises ConfigError: no such family, naming the known ones.
    """
    if is_static(name):
        return AST_CONFIG
    key = ALIASES.get(name.lower(), name.lower())
    table = FAMILIES.get(key)
    if table is None:
        known = ", ".join(FAMILIES)
        raise ConfigError(
            f"no table definition for {name!r}; known families: {known}, "
            "and any NAME.conf or global (the static-configuration table)"
        )
    return table


def tables_for(
    names: Mapping[str, str], refer: Mapping[str, str] | None = None
) -> tuple[MetaData, list[Table]]:
    """Copies of the families' tables under other names, in a fresh ``MetaData``.

    :param names: family -> table name, for each table wanted (a mapping may name its table
        anything: ``sippeers => pgsql,db,peers``).
    :param refer: family -> table name of tables referred to but not wanted here (the
        ``musiconhold`` a ``musiconhold_entry`` points at); by default the family's name.
    :return: the ``MetaData`` and the wanted tables, in ``names`` order. Enum types and the
        MySQL ``AUTO_INCREMENT`` step go with the copies; a foreign key points at its target's
        new name, and a target not wanted here is present as a stub of its referred columns
        (so ``CREATE TABLE`` can name it; create only the returned tables).
    """
    md = MetaData()
    table_names = {table_for(f).name: t for f, t in (refer or {}).items()}
    table_names.update({table_for(f).name: t for f, t in names.items()})
    wanted: list[Table] = []
    for family, name in names.items():
        source = table_for(family)
        schema, _, bare = name.rpartition(".")
        copy = (
            source.to_metadata(md, schema=schema, name=bare)
            if schema
            else source.to_metadata(md, name=bare)
        )
        for fkc in list(copy.foreign_key_constraints):
            target, _, _ = fkc.elements[0].target_fullname.rpartition(".")
            new = table_names.get(target, target)
            columns = [e.target_fullname.rpartition(".")[2] for e in fkc.elements]
            copy.constraints.discard(fkc)
            for element in fkc.elements:
                element.parent.foreign_keys.discard(element)
                copy.foreign_keys.discard(element)
            copy.append_constraint(
                ForeignKeyConstraint(
                    [e.parent.name for e in fkc.elements], [f"{new}.{c}" for c in columns]
                )
            )
        for ddl in AFTER_CREATE.get(source.name, ()):
            event.listen(copy, "after_create", ddl)
        wanted.append(copy)
    definitions = {new: FAMILIES[old] for old, new in table_names.items()}
    for table in wanted:  # a stub for each target not created here
        for fkc in table.foreign_key_constraints:
            target = fkc.elements[0].target_fullname.rpartition(".")[0]
            if target not in md.tables:
                definition = definitions.get(target, FAMILIES.get(target))
                assert definition is not None, target
                schema, _, bare = target.rpartition(".")
                stub = [Column(c.name, c.type) for c in definition.primary_key]
                Table(bare, md, *stub, schema=schema or None)
    return md, wanted
