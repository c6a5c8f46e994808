"""``CREATE`` statements for the families' tables, rendered by SQLAlchemy for one dialect.

SQLAlchemy runs its own ``create_all`` against a mock engine and hands over each statement,
so the text is exactly what ``realtime schema --create`` would execute on that database: enum
types first on PostgreSQL (each once), tables in dependency order, indexes, and the MySQL-only
``AUTO_INCREMENT`` step of ``queue_members``. The dialects ``ldap`` and ``res_ldap`` give the
same tables as an LDAP schema and its ``res_ldap.conf`` sections (:mod:`.ldap`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import create_mock_engine

from ..errors import ConfigError
from . import FAMILIES, tables_for

__all__ = ["DIALECTS", "SQL_DIALECTS", "render"]

#: Dialect name -> the URL scheme SQLAlchemy knows it by.
SQL_DIALECTS: dict[str, str] = {
    "postgresql": "postgresql://",
    "mysql": "mysql://",
    "mariadb": "mariadb://",
    "sqlite": "sqlite://",
}
#: Every dialect :func:`render` knows: SQL ones, then the LDAP schema and its mapping.
DIALECTS: tuple[str, ...] = (*SQL_DIALECTS, "ldap", "res_ldap")


def render(families: Sequence[str] | Mapping[str, str] = (), dialect: str = "postgresql") -> str:
    """The DDL of ``families`` (every family when empty) for ``dialect``, one statement after
    another, each ending with ``;`` (for ``ldap``/``res_ldap``: :mod:`.ldap`'s text).

    ``families`` may map each family to the table name to create it under.

    :raises ConfigError: an unknown family or dialect.
    """
    kind = dialect.lower()
    if kind in ("ldap", "res_ldap"):
        from . import ldap  # noqa: PLC0415

        named = list(families)
        return ldap.ldif(named) if kind == "ldap" else ldap.res_ldap(named)
    url = SQL_DIALECTS.get(kind)
    if url is None:
        raise ConfigError(f"unknown dialect {dialect!r}; use one of {', '.join(DIALECTS)}")
    if isinstance(families, Mapping):
        names = dict(families)
    else:
        names = {f: f for f in (families or FAMILIES)}
    md, tables = tables_for(names)
    statements: list[str] = []

    def collect(sql: Any, *multiparams: Any, **params: Any) -> None:
        statements.append(str(sql.compile(dialect=engine.dialect)).strip())

    engine = create_mock_engine(url, collect)
    md.create_all(engine, tables=tables, checkfirst=False)
    return "".join(f"{s};\n\n" for s in statements)
