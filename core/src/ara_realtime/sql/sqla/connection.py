"""The operations of an SQL driver over SQLAlchemy: engines and pools, metadata, the hot path.

A driver subclasses :class:`SQLAlchemyConnection` and supplies the engine-specific parts
(its plugin is ``ara_realtime.driver.ConnectionDriver(TheConnection.open, capabilities)``):
the statement :class:`~ara_realtime.sql.Dialect`, the per-column comparison expressions
(:meth:`column_sql`), how its DB-API errors split into the caller's mistakes and storage
failures (:meth:`is_query_error`), and how a statement is executed fastest
(:meth:`execute`). Everything else (reflection, the metadata cache, ``require`` with its DDL,
static rows, reconnecting and retrying reads) is here, once.

The hot path of ``load`` is: cached ``TableInfo`` -> cached statement text -> an idle pooled
DB-API connection -> ``cursor.execute`` -> a ``dict`` from the row tuple.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy
from sqlalchemy import exc as sa_exc

from ...capabilities import Capabilities
from ...conditions import Condition, check_identifier
from ...datatypes import Requirement, Row, StaticTuple
from ...errors import BackendError, ConfigError, QueryError
from ..codec import decode, encode
from ..statements import Dialect, Statements, TableInfo
from ..tables import TableCache
from .pool import Conn, Pool, _reason
from .schema import ColumnFacts, check_requirement, column_facts, ddl_type
from .settings import ConnectSpec
from .timeouts import Watches  # ara: deadline

__all__ = ["ColumnSQL", "SQLAlchemyConnection"]

log = logging.getLogger(__name__)

_STATIC_COLUMNS = (
    "filename",
    "category",
    "var_name",
    "var_val",
    "cat_metric",
    "var_metric",
    "commented",
)

# what a statement returns to the caller
_ROWCOUNT, _ONE, _ALL = 0, 1, 2


@dataclass(frozen=True)
class ColumnSQL:
    """How one column is selected and compared (``None``: its quoted name)."""

    select: str | None = None
    eq: str | None = None
    like: str | None = None
    order: str | None = None
    #: ``eq`` defeats the column's index: equality also gets a plain ``name = ?`` term.
    assisted: bool = False
    #: ``like``/``order`` decode ``^XX`` (their operands are bound as given).
    decoded: bool = False


class SQLAlchemyConnection(TableCache):
    """One database (or a ``read/write`` pair) of an SQL driver built on SQLAlchemy."""

    #: The driver name (``pgsql``, ``mysql``).
    driver: ClassVar[str] = ""
    #: The engine family for DDL (``postgresql``, ``mysql``).
    engine_kind: ClassVar[str] = ""
    #: How statements are spelled.
    dialect: ClassVar[Dialect]

    def __init__(self, database: str, spec: ConnectSpec) -> None:
        self.database = database
        self.label = spec.label
        # the storage form and require's mode follow the section that writes
        self.settings = (spec.write or spec).settings
        self.codec = self.settings.codec
        self.mode = self.settings.requirements
        self._init_tables(Statements(self.dialect, codec=self.codec))
        self.reader = self._pool(spec)
        self.writer = self._pool(spec.write) if spec.write is not None else self.reader

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label}>"

    @classmethod
    def open(
        cls, database: str, settings: Mapping[str, str], config_dir: Path | None
    ) -> SQLAlchemyConnection:
        """``ara_connect``: read the driver's settings and build the connection."""
        return cls(database, cls.read_config(database, settings, config_dir))

    @classmethod
    def read_config(
        cls, database: str, settings: Mapping[str, str], config_dir: Path | None
    ) -> ConnectSpec:
        """The driver's ``res_*.conf`` reader."""
        raise NotImplementedError

    # -- engines and pools ------------------------------------------------------------------

    def _pool(self, spec: ConnectSpec) -> Pool:
        s = spec.settings
        try:
            engine = sqlalchemy.create_engine(
                spec.url,
                connect_args=spec.connect_args,
                pool_size=s.pool_size,
                max_overflow=s.pool_overflow,
                pool_timeout=s.pool_timeout,
                pool_pre_ping=s.pool_pre_ping is not None,
                pool_recycle=s.pool_recycle,
                pool_reset_on_return=None,
                isolation_level="AUTOCOMMIT",
                hide_parameters=True,
            )
        except (ImportError, sa_exc.ArgumentError, sa_exc.NoSuchModuleError) as exc:
            raise spec_error(spec, exc) from None
        watches = Watches(  # ara: deadline
            engine,
            spec.label,
            socket_of=self.socket_of,
            query_timeout=s.query_timeout,
            connect_timeout=s.connect_timeout,
        )
        return Pool(
            engine,
            spec.label,
            size=s.pool_size,
            timeout=s.pool_timeout,
            ping_after=s.pool_pre_ping,
            recycle=s.pool_recycle,
            watches=watches,  # ara: deadline
        )

    def close(self) -> None:
        """Close every pooled connection."""
        self.reader.close()
        if self.writer is not self.reader:
            self.writer.close()

    def drop_connections(self) -> None:
        """Throw away idle connections (tests use this after restarting a server)."""
        self.reader.invalidate_idle()
        self.writer.invalidate_idle()

    # -- engine-specific parts ----------------------------------------------------------------

    def column_sql(self, table: str, col: ColumnFacts, extra: Mapping[str, Any]) -> ColumnSQL:
        """How ``col`` of ``table`` is selected and compared.

        ``extra`` holds the column's :meth:`reflect_extra` facts.
        """
        raise NotImplementedError

    def reflect_extra(
        self, conn: sqlalchemy.Connection, schema: str | None, table: str
    ) -> dict[str, Any]:
        """Facts SQLAlchemy's reflection lacks (MySQL: column collations), per column."""
        return {}

    def is_query_error(self, exc: Exception) -> bool:
        """True if a DB-API error is the caller's mistake (constraint, unknown column, value)."""
        raise NotImplementedError

    def is_disconnect(self, exc: Exception) -> bool:
        """True if ``exc`` means the connection is gone (besides what SQLAlchemy detects)."""
        return False

    def execute(self, cursor: Any, sql: str, params: list[object]) -> None:
        """Run one statement (a driver may prepare it)."""
        cursor.execute(sql, params)

    def socket_of(self, dbapi_connection: Any) -> int | None:
        """The socket descriptor of a DB-API connection: where a stalled call is cut."""
        return int(dbapi_connection.fileno())

    @property
    def capabilities(self) -> Capabilities:
        """What this connection declares (``ConnectionDriver`` asks for it)."""
        return Capabilities.full(codec=self.codec, require_create=True)

    # -- the hot path -------------------------------------------------------------------------

    def _run(
        self,
        pool: Pool,
        sql: str,
        params: list[object],
        want: int,
        where: tuple[str, str],
        *,
        retry: bool,
    ) -> Any:
        """Execute on a pooled connection; a lost connection is replaced and a read retried once.

        A call that got no answer within ``query_timeout`` is cut and never retried.
        ``where`` is ``(table, family)`` for error messages.
        """
        conn = pool.acquire()
        watch = conn.watch  # ara: deadline
        watch.arm()  # ara: deadline
        try:
            cur = conn.cursor
            self.execute(cur, sql, params)
            if want == _ONE:
                result = cur.fetchone()
            elif want == _ALL:
                result = cur.fetchall()
            else:
                result = cur.rowcount
        except Exception as exc:
            cut = watch.disarm()  # ara: deadline
            lost = cut or self._lost(pool, conn, exc)
            if lost and (cut or watch.late()):  # ara: deadline: out of time: no second wait
                pool.discard(conn)  # ara: deadline
                raise watch.error(self.label) from None  # ara: deadline
            error = self._failed(pool, conn, exc, where, lost=lost)
            if retry and lost:
                log.info("%s: connection lost (%s); retrying the read once", self.label, error)
                return self._run(pool, sql, params, want, where, retry=False)
            raise error from None
        if watch.disarm():  # ara: deadline: cut as the answer came: the connection is done
            pool.discard(conn)  # ara: deadline
            return result  # ara: deadline
        pool.release(conn)
        return result

    def _lost(self, pool: Pool, conn: Conn, exc: Exception) -> bool:
        if self.is_disconnect(exc):
            return True
        try:
            dialect: Any = pool.engine.dialect
            return bool(dialect.is_disconnect(exc, conn.dbapi, conn.cursor))
        except Exception:
            return False

    def _failed(
        self, pool: Pool, conn: Conn, exc: Exception, where: tuple[str, str], *, lost: bool
    ) -> Exception:
        """Classify ``exc`` and put the connection back, or throw it (and its idle peers) away."""
        if lost:
            pool.discard(conn)
            pool.invalidate_idle()
            return BackendError(f"{self.label}: connection lost: {_reason(exc)}")
        dbapi = pool.engine.dialect.loaded_dbapi
        if not isinstance(exc, dbapi.Error):
            pool.discard(conn)
            raise exc
        if self.is_query_error(exc):
            pool.release(conn)
            table, family = where
            return QueryError(
                f"family {family!r}, table {table!r}: {_reason(exc)}", family=family, table=table
            )
        pool.discard(conn)
        return BackendError(f"{self.label}: {_reason(exc)}")

    def _row(self, columns: tuple[str, ...], values: Any) -> Row:
        """A result tuple (every value text or NULL) as a row without NULL/empty columns."""
        if all(values):  # nothing to leave out: the C-level path
            row = dict(zip(columns, values))
        else:
            row = {c: v for c, v in zip(columns, values) if v}
        if self.codec and "^" in "".join(row.values()):
            _decode_row(row)
        return row

    # -- metadata -----------------------------------------------------------------------------

    @property
    def where(self) -> str:
        return self.label

    def _describe(self, name: str, family: str) -> TableInfo | None:
        check_identifier(name, kind="table", family=family)
        schema, _, table = name.rpartition(".")
        engine = self.writer.engine
        try:
            with self.writer.connect() as conn, self.writer.watches.bounded(conn):  # ara: deadline
                insp = sqlalchemy.inspect(conn)
                if not insp.has_table(table, schema=schema or None):
                    return None
                cols = insp.get_columns(table, schema=schema or None)
                extra = self.reflect_extra(conn, schema or None, table)
        except sa_exc.DBAPIError as exc:
            if exc.connection_invalidated or not self.is_query_error(exc.orig):  # type: ignore[arg-type]
                raise BackendError(
                    f"{self.label}: reading table {name!r}: {_reason(exc.orig)}"
                ) from None
            raise QueryError(
                f"family {family!r}: table {name!r}: {_reason(exc.orig)}", family=family, table=name
            ) from None
        except sa_exc.TimeoutError:
            raise self.writer.timeout_error() from None
        facts = [
            column_facts(c["name"], c["type"], bool(c["nullable"]), engine.dialect) for c in cols
        ]
        return self._info(name, facts, extra)

    def _info(self, name: str, facts: list[ColumnFacts], extra: Mapping[str, Any]) -> TableInfo:
        q = self.dialect.quote
        select: list[str] = []
        eq: dict[str, str] = {}
        like: dict[str, str] = {}
        order: dict[str, str] = {}
        assisted: set[str] = set()
        decoded: set[str] = set()
        for col in facts:
            how = self.column_sql(name, col, extra.get(col.name, {}))
            select.append(how.select or q(col.name))
            for target, expr in ((eq, how.eq), (like, how.like), (order, how.order)):
                if expr is not None:
                    target[col.name] = expr
            if how.assisted:
                assisted.add(col.name)
            if how.decoded:
                decoded.add(col.name)
        return TableInfo(
            name=name,
            columns=tuple(c.name for c in facts),
            text=frozenset(
                c.name for c in facts if not c.numeric and c.kind not in ("date", "datetime")
            ),
            nullable=frozenset(c.name for c in facts if c.nullable),
            select_list=", ".join(select),
            extra={"facts": {c.name: c for c in facts}},
            eq_exprs=eq,
            like_exprs=like,
            order_exprs=order,
            assisted=frozenset(assisted),
            decoded=frozenset(decoded),
        )

    # -- operations ---------------------------------------------------------------------------

    def load(self, family: str, table: str, conds: tuple[Condition, ...]) -> Row | None:
        info = self._tables.get(table) or self.table(table, family)
        sql, params = self.statements.select(info, conds, family, multi=False)
        row = self._run(self.reader, sql, params, _ONE, (table, family), retry=True)
        return None if row is None else self._row(info.columns, row)

    def load_multi(self, family: str, table: str, conds: tuple[Condition, ...]) -> list[Row]:
        info = self._tables.get(table) or self.table(table, family)
        sql, params = self.statements.select(info, conds, family, multi=True)
        rows = self._run(self.reader, sql, params, _ALL, (table, family), retry=True)
        return _rows(info.columns, rows, self.codec)

    def update2(
        self,
        family: str,
        table: str,
        conds: tuple[Condition, ...],
        values: tuple[tuple[str, str], ...],
    ) -> int:
        info = self._tables.get(table) or self.table(table, family)
        sql, params = self.statements.update(info, conds, values, family)
        return int(self._run(self.writer, sql, params, _ROWCOUNT, (table, family), retry=False))

    def store(self, family: str, table: str, values: tuple[tuple[str, str], ...]) -> int:
        info = self._tables.get(table) or self.table(table, family)
        sql, params = self.statements.insert(info, values, family)
        return int(self._run(self.writer, sql, params, _ROWCOUNT, (table, family), retry=False))

    def destroy(self, family: str, table: str, conds: tuple[Condition, ...]) -> int:
        info = self._tables.get(table) or self.table(table, family)
        sql, params = self.statements.delete(info, conds, family)
        return int(self._run(self.writer, sql, params, _ROWCOUNT, (table, family), retry=False))

    def load_static(self, table: str, filename: str) -> list[StaticTuple]:
        """The active rows of ``filename``, in the contract's order.

        The server returns them ready-made (NULLs coalesced, ``^3B``/``^5E`` decoded in
        either case by :meth:`decode_sql`), so the result tuples are handed over as they are:
        no Python object per row beyond the driver's own tuple, which matters twice over for
        10,000 rows (a tuple subclass per row cost as much again in cyclic GC as in building).
        """
        info = self.table(table, filename)
        info.check(_STATIC_COLUMNS, filename)
        sql = self.statements.static(table, info, self._static_select())
        name = encode(filename) if self.codec else filename
        rows = self._run(self.reader, sql, [name], _ALL, (table, filename), retry=True)
        return rows if isinstance(rows, list) else list(rows)  # mysqlclient: a tuple

    def _static_select(self) -> str:
        q = self.dialect.quote
        texts = [
            f"COALESCE({self.decode_sql(q(c)) if self.codec else q(c)}, '')"
            for c in ("category", "var_name", "var_val")
        ]
        numbers = [f"COALESCE({q(c)}, 0)" for c in ("cat_metric", "var_metric")]
        return ", ".join([*texts, *numbers])

    @staticmethod
    def decode_sql(expr: str) -> str:
        """SQL undoing the ``^XX`` codec of ``expr`` for ``;`` and ``^`` (either hex case).

        Lower-case codes are made upper-case first, then each code is replaced in one pass, so
        a ``^`` produced by decoding is never decoded again (``^5E3B`` is ``^3B``).
        """
        for code, new in (("^3b", "^3B"), ("^5e", "^5E"), ("^3B", ";"), ("^5E", "^")):
            expr = f"REPLACE({expr}, '{code}', '{new}')"
        return expr

    # -- require ------------------------------------------------------------------------------

    def require(self, family: str, table: str, columns: Mapping[str, Requirement]) -> bool:
        """Check columns against ``RQ_*`` types and sizes; create what is missing (create modes)."""
        check_identifier(table, kind="table", family=family)
        self.forget(table)
        info = self._describe(table, family)
        create = self.mode != "warn"
        q = self.dialect.quote
        if info is None:
            if not create:
                log.warning(
                    "family %r: table %r does not exist in %s (requirements=warn)",
                    family,
                    table,
                    self.label,
                )
                return False
            cols = ", ".join(
                f"{q(c)} {ddl_type(self.engine_kind, r, self.mode, self.codec)}"
                for c, r in columns.items()
            )
            self._ddl(f"CREATE TABLE {q(table)} ({cols}){self.create_suffix()}", table, family)
            self.forget(table)
            return True
        facts: dict[str, ColumnFacts] = info.extra["facts"]  # type: ignore[assignment]
        ok = True
        for column, req in columns.items():
            col = facts.get(column)
            if col is None:
                if not create:
                    log.warning(
                        "family %r: table %r requires a column %r of type %s(%d), "
                        "but no such column exists",
                        family,
                        table,
                        column,
                        req.type.name.lower(),
                        req.size,
                    )
                    ok = False
                    continue
                self._ddl(
                    f"ALTER TABLE {q(table)} ADD COLUMN {q(column)} "
                    f"{ddl_type(self.engine_kind, req, self.mode, self.codec)}",
                    table,
                    family,
                )
                continue
            problem = check_requirement(col, req)
            if problem is not None:
                log.warning("family %r: table %r: column %r %s", family, table, column, problem)
                ok = False
        self.forget(table)
        return ok

    def create_suffix(self) -> str:
        """Text after ``CREATE TABLE name (...)`` (MySQL: engine and character set)."""
        return ""

    def _ddl(self, sql: str, table: str, family: str) -> None:
        log.info("%s: %s", self.label, sql)
        try:
            with self.writer.connect() as conn, self.writer.watches.bounded(conn):  # ara: deadline
                conn.exec_driver_sql(sql)
        except sa_exc.DBAPIError as exc:
            if exc.connection_invalidated or not self.is_query_error(exc.orig):  # type: ignore[arg-type]
                raise BackendError(f"{self.label}: {_reason(exc.orig)}") from None
            raise QueryError(
                f"family {family!r}, table {table!r}: {_reason(exc.orig)}",
                family=family,
                table=table,
            ) from None
        except sa_exc.TimeoutError:
            raise self.writer.timeout_error() from None


def spec_error(spec: ConnectSpec, exc: BaseException) -> Exception:
    return ConfigError(f"{spec.label}: {type(exc).__name__}: {exc}")


def _decode_row(row: Row) -> None:
    """Undo the ``^XX`` codec in every value of ``row`` that holds a ``^``."""
    for column, value in list(row.items()):
        if "^" in value:
            row[column] = decode(value)


def _rows(columns: tuple[str, ...], results: Sequence[Any], codec: bool) -> list[Row]:
    """Result tuples (every value text or NULL) as rows without NULL/empty columns.

    Whole-result passes in C where they can be: a result without a NULL or empty value
    becomes dicts without Python code per row, and one scan of all values tells whether any
    row needs ``^XX`` decoding at all.
    """
    if all(map(all, results)):
        rows = list(map(dict, map(zip, repeat(columns), results)))
    else:
        rows = [
            dict(zip(columns, v)) if all(v) else {c: x for c, x in zip(columns, v) if x}
            for v in results
        ]
    if codec and "^" in "".join(filter(None, chain.from_iterable(results))):
        for row in rows:
            if "^" in "".join(row.values()):
                _decode_row(row)
    return rows
