"""Table metadata an SQL driver reads on first use and keeps until it is told to forget it."""

from __future__ import annotations

import threading

from ..driver import Connection
from ..errors import QueryError
from .statements import Statements, TableInfo

__all__ = ["TableCache"]


class TableCache(Connection):
    """Cached :class:`TableInfo` per table, with the statements built from it.

    A driver's connection class mixes this in, calls :meth:`_init_tables` from its
    ``__init__`` and supplies :meth:`_describe` (read the table's columns, ``None`` if there is
    no such table) and :attr:`where` (how the database is named in errors).
    """

    statements: Statements
    _tables: dict[str, TableInfo]
    _tables_lock: threading.Lock

    def _init_tables(self, statements: Statements) -> None:
        self.statements = statements
        self._tables = {}
        self._tables_lock = threading.Lock()

    @property
    def where(self) -> str:
        """The database as error messages name it."""
        raise NotImplementedError

    def _describe(self, name: str, family: str) -> TableInfo | None:
        raise NotImplementedError

    def table(self, name: str, family: str) -> TableInfo:
        """Cached facts of table ``name``, read on first use; ``QueryError`` if absent."""
        info = self._tables.get(name)
        if info is None:
            info = self._describe(name, family)
            if info is None:
                raise QueryError(
                    f"family {family!r}: table {name!r} does not exist in {self.where}",
                    family=family,
                    table=name,
                )
            with self._tables_lock:
                self._tables[name] = info
        return info

    def unload(self, family: str, table: str) -> bool:
        """Drop cached metadata and statements of ``table``; ``True`` if it was cached."""
        return self.forget(table)

    def forget(self, name: str) -> bool:
        """Drop cached metadata and statements of ``name``; ``True`` if it was cached."""
        with self._tables_lock:
            self.statements.clear(name)
            return self._tables.pop(name, None) is not None
