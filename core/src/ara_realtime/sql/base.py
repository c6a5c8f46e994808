"""One base for every SQL driver over a DB-API 2 module: :class:`DBAPIConnection`.

``sqlite3`` (standard library), the SQLAlchemy-based drivers (``pgsql``, ``mysql``) and
``odbc`` (pyodbc) subclass it and supply only what differs between engines:

* where connections come from: two :class:`~ara_realtime.sql.pool.ConnectionPool` objects,
  ``reader`` and ``writer`` (the same one unless a ``read/write`` pair is configured);
* how statements are spelled (:class:`~ara_realtime.sql.statements.Dialect`), how a table's
  columns are read (:meth:`DBAPIConnection._describe` through :meth:`DBAPIConnection._info`)
  and selected or compared (:meth:`DBAPIConnection.column_sql`);
* which DB-API errors are the caller's mistake, which mean a lost connection
  (:meth:`DBAPIConnection.classify`), and their text (:meth:`DBAPIConnection.reason`);
* the column types ``require`` creates (:meth:`DBAPIConnection.ddl_type`).

Everything else is here, once: executing and fetching on a pooled connection, retrying a read
once on a replaced connection, running a statement again that the server rolled back for a
conflict or refused without running it, never a write whose outcome is unknown
(:data:`ErrorKind`), error classification and value-free messages, the statement and metadata
caches, rows without NULL/empty columns and with the ``^XX`` codec undone,
``require`` with its DDL, and static-configuration rows.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import chain, repeat
from typing import Any, ClassVar, Literal

from ..capabilities import Capabilities
from ..conditions import Condition
from ..datatypes import STATIC_COLUMNS, Requirement, Row, StaticTuple
from ..errors import BackendError, QueryError
from ..status import PoolStatus, SideStatus
from .codec import decode, encode
from .messages import scrub
from .pool import ConnectionPool, PooledConnection
from .schema import ColumnFacts, check_requirement, ddl_type
from .statements import Dialect, Statements, TableInfo
from .tables import TableCache

__all__ = [
    "ALL",
    "NOTHING",
    "ONE",
    "ROWCOUNT",
    "ColumnSQL",
    "DBAPIConnection",
    "ErrorKind",
]

log = logging.getLogger(__name__)


#: How a DB-API error is taken:
#:
#: * ``"query"``: the caller's mistake (the same statement fails everywhere);
#: * ``"lost"``: the connection is gone; a write's outcome is unknown (reads are retried once);
#: * ``"backend"``: the storage failed;
#: * ``"conflict"``: the server rolled the statement back in full because it conflicted with
#:   another transaction (a deadlock victim, a Galera certification failure): nothing of it
#:   was applied and the connection is sound, so any statement is run again, at most
#:   :attr:`DBAPIConnection.conflict_retries` times and within the call's one deadline;
#: * ``"refused"``: the server refused to run the statement (nothing applied) and will refuse
#:   on this connection until it recovers (a Galera node outside the primary component): the
#:   connection and the idle ones are dropped and any statement is run once more on a new
#:   connection (which a pool over several servers takes from another one);
#: * ``"unknown"``: the server failed the statement's commit without saying whether it took
#:   effect (MySQL 1180: a Galera writeset may have reached the primary component before the
#:   node left it). The connection and the idle ones are dropped; a read runs once more on a
#:   new connection, a write never (a ``store`` could add its row twice; an ``update`` or
#:   ``destroy`` run again would report the rows it matched the second time and could undo a
#:   change made in between): it fails with a ``BackendError`` saying its outcome is unknown.
ErrorKind = Literal["query", "lost", "backend", "conflict", "refused", "unknown"]

#: What :meth:`DBAPIConnection._run` returns: the row count, one row, every row, nothing.
ROWCOUNT, ONE, ALL, NOTHING = 0, 1, 2, 3

#: Seconds a retry after a conflict waits at most, before its random share: doubled per retry
#: up to the ceiling (the conflicting transaction is usually done within milliseconds).
_CONFLICT_PAUSE, _CONFLICT_PAUSE_MAX = 0.005, 0.05
#: A retry after a conflict starts only with this many seconds of the call's deadline left.
_CONFLICT_MIN_LEFT = 0.05
_now = time.monotonic


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


class DBAPIConnection(TableCache):
    """One database (or a ``read/write`` pair) of an SQL driver on a DB-API 2 module.

    :param label: names the database in messages (never a password).
    :param dialect: how statements are spelled.
    :param codec: store values in Asterisk's ``^XX`` form.
    :param mode: ``require``'s mode: ``warn``, ``createclose`` or ``createchar``.
    :param reader: the pool for reads; ``writer`` for writes, reflection and DDL (default:
        the reader).
    """

    #: The driver name (``sqlite3``, ``pgsql``, ...).
    driver: ClassVar[str] = ""
    #: The engine whose column types ``require`` creates (see :mod:`ara_realtime.sql.schema`).
    engine_kind: ClassVar[str] = ""
    #: A query whose one value names the server and its version (``realtime status``).
    VERSION_SQL: ClassVar[str] = "SELECT VERSION()"
    #: How many times a statement rolled back for a conflict (``ErrorKind`` ``"conflict"``)
    #: is run again before the call fails with ``BackendError`` (a driver's setting).
    conflict_retries: int = 0

    def __init__(
        self,
        database: str,
        label: str,
        *,
        dialect: Dialect,
        codec: bool,
        mode: str,
        reader: ConnectionPool,
        writer: ConnectionPool | None = None,
    ) -> None:
        self.database = database
        self.label = label
        self.dialect = dialect
        self.codec = codec
        self.mode = mode
        self.reader = reader
        self.writer = writer if writer is not None else reader
        self._init_tables(Statements(dialect, codec=codec))
        # the hot path calls cursor.execute itself unless a driver changes how statements run
        self._plain_execute = type(self).execute is DBAPIConnection.execute
        #: The most bytes one statement may take on the wire, where the server has such a
        #: limit (MySQL's max_allowed_packet): a larger one is the caller's mistake, refused
        #: before it is sent (the server would drop the connection instead of answering).
        self.max_statement_bytes: int | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label}>"

    @property
    def capabilities(self) -> Capabilities:
        """The class's declaration, with this connection's codec setting."""
        declared = super().capabilities
        return declared if declared.codec == self.codec else replace(declared, codec=self.codec)

    def close(self) -> None:
        """Close every pooled connection."""
        self.reader.close()
        if self.writer is not self.reader:
            self.writer.close()

    def drop_connections(self) -> None:
        """Throw away idle connections (tests use this after restarting a server)."""
        self.reader.invalidate_idle()
        self.writer.invalidate_idle()

    def pool_status(self) -> dict[str, PoolStatus]:
        """Each pool's connections in use, idle and its limit."""
        if self.writer is self.reader:
            return {"pool": self.reader.status()}
        return {"read": self.reader.status(), "write": self.writer.status()}

    def status(self) -> Mapping[str, Any]:
        """The server's version (a round trip: it proves the storage answers) and the pools.

        When writes go to other servers than reads, each side is asked on its own and
        reported (``sides``): live standbys do not hide a dead primary.
        """
        if self.writer is self.reader:
            version, _ = self._probe(self.reader)
            return {"server": version, "detail": self.label, "pools": self.pool_status()}
        server: str | None = None
        sides: dict[str, SideStatus] = {}
        for side, pool in (("read", self.reader), ("write", self.writer)):
            try:
                version, reached = self._probe(pool)
            except BackendError as exc:
                sides[side] = SideStatus("down", error=str(exc))
            else:
                server = server or version
                sides[side] = SideStatus("up", reached)
        return {
            "server": server,
            "detail": self.label,
            "pools": self.pool_status(),
            "sides": sides,
        }

    def _probe(self, pool: ConnectionPool) -> tuple[str, str | None]:
        """One pool's server version (a round trip) and the server it reached."""
        row = self._run(pool, self.VERSION_SQL, (), ONE, ("", ""), retry=True)
        conn = pool.acquire()  # the connection just used, at the top of the pool's stack
        try:
            reached = self.reached(pool, conn)
        finally:
            pool.release(conn)
        return self.version_text(str(row[0]) if row else ""), reached

    def reached(self, pool: ConnectionPool, conn: PooledConnection) -> str | None:
        """The server ``conn`` of ``pool`` is connected to (``host:port``), if known."""
        return None

    def version_text(self, answer: str) -> str:
        """The answer to :attr:`VERSION_SQL` as shown (a driver may name its engine)."""
        return answer

    # -- what each engine supplies ------------------------------------------------------------

    def classify(self, exc: BaseException) -> ErrorKind | None:
        """How a DB-API error is taken; ``None`` if ``exc`` is not one (a bug: re-raised)."""
        raise NotImplementedError

    def reason(self, exc: BaseException) -> str:
        """The error's text as the server gave it (scrubbed of values by the caller)."""
        return str(exc) or type(exc).__name__

    def column_sql(self, table: str, col: ColumnFacts, extra: Mapping[str, Any]) -> ColumnSQL:
        """How ``col`` of ``table`` is selected and compared (``extra``: engine facts)."""
        return ColumnSQL()

    def ddl_type(self, req: Requirement) -> str:
        """The column type ``require`` creates for ``req`` in this connection's mode."""
        return ddl_type(self.engine_kind, req, self.mode, self.codec)

    def create_suffix(self) -> str:
        """Text after ``CREATE TABLE name (...)`` (MySQL: engine and character set)."""
        return ""

    def execute(self, cursor: Any, sql: str, params: Sequence[object]) -> None:
        """Run one statement (a driver may prepare it)."""
        cursor.execute(sql, params)

    def static_select(self) -> str:
        """The static query's five columns: texts with NULL as ``''`` (decoded when the codec
        is on), metrics with NULL as 0; a driver may cast them."""
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

    # -- executing ----------------------------------------------------------------------------

    def _run(
        self,
        pool: ConnectionPool,
        sql: str,
        params: Sequence[object],
        want: int,
        where: tuple[str, str],
        *,
        retry: bool | None,
        conflicts: int = 0,
        until: float = 0.0,
    ) -> Any:
        """Execute on a pooled connection; a lost connection is replaced and a read retried once.

        A call with no answer within its connection's deadline (``query_timeout``) is cut by
        the watchdog (:mod:`ara_realtime.sql.deadline`) and never retried. A statement the
        server rolled back for a conflict is run again (``conflicts`` counts the retries,
        ``until`` is the deadline of the whole call); one it refused (any statement) is run
        once more on a new connection, which takes the place of the read's retry: one second
        chance per call. ``retry`` is True for reads, False for writes, ``None`` once the
        second chance is spent. ``where`` is ``(table, family)`` for error messages.
        """
        if self.max_statement_bytes is not None:
            self._check_size(sql, params, where)
        conn = pool.acquire()
        watch = conn.watch
        if until:  # a retry: what is left of the call's deadline
            watch.arm(max(until - _now(), 0.001))
        else:
            watch.arm()
        try:
            cur = conn.cursor
            if self._plain_execute:
                cur.execute(sql, params)
            else:
                self.execute(cur, sql, params)
            if want == ONE:
                result = cur.fetchone()
            elif want == ALL:
                result = cur.fetchall()
            elif want == ROWCOUNT:
                result = cur.rowcount
            else:
                result = None
        except Exception as exc:
            cut = watch.disarm()
            kind = "lost" if cut else self.classify(exc)
            if kind == "lost" and (cut or watch.late()):  # out of time, no retry
                pool.discard(conn)
                raise watch.error(pool.label) from None
            if kind == "conflict" and conflicts < self.conflict_retries:
                # the first attempt's deadline (a Watch keeps it; NoWatch: no deadline)
                due = until or getattr(watch, "due", 0.0)
                pause = random.uniform(0, min(_CONFLICT_PAUSE * 2**conflicts, _CONFLICT_PAUSE_MAX))
                if not due or due - _now() - pause > _CONFLICT_MIN_LEFT:
                    pool.release(conn)
                    log.info(
                        "%s: %s; running the statement again",
                        pool.label,
                        self._scrubbed(exc, where[0]),
                    )
                    time.sleep(pause)
                    return self._run(
                        pool,
                        sql,
                        params,
                        want,
                        where,
                        retry=retry,
                        conflicts=conflicts + 1,
                        until=due,
                    )
            error = self._failed(pool, conn, exc, kind, where, conflicts=conflicts)
            if kind == "refused" and retry is not None:
                log.info("%s: %s; running the statement on a new connection", pool.label, error)
                return self._run(pool, sql, params, want, where, retry=None)
            if retry and kind in ("lost", "unknown"):
                log.info("%s: %s; retrying the read once", pool.label, error)
                return self._run(pool, sql, params, want, where, retry=None)
            raise error from None
        if watch.disarm():  # cut as the answer came: the connection is done
            pool.discard(conn)
            return result
        pool.release(conn)
        return result

    def _check_size(self, sql: str, params: Sequence[object], where: tuple[str, str]) -> None:
        """``QueryError`` if the statement cannot fit in :attr:`max_statement_bytes`."""
        limit = self.max_statement_bytes
        assert limit is not None
        texts = [p for p in params if p.__class__ is str]
        # 4 bytes per character in UTF-8 at most, doubled by the client's escaping at most
        if len(sql) + 8 * sum(map(len, texts)) <= limit:
            return
        size = len(sql.encode()) + sum(
            len(t.encode()) + sum(t.count(c) for c in _ESCAPED) for t in texts
        )
        if size > limit:
            table, family = where
            raise QueryError(
                f"family {family!r}, table {table!r}: the values are too large for the server: "
                f"the statement takes {size:,} bytes, its limit is {limit:,} "
                "(MySQL's max_allowed_packet)",
                family=family,
                table=table,
            )

    def _failed(
        self,
        pool: ConnectionPool,
        conn: PooledConnection,
        exc: Exception,
        kind: ErrorKind | None,
        where: tuple[str, str],
        *,
        conflicts: int = 0,
    ) -> Exception:
        """The error to raise for ``exc`` (named after ``pool``: the side that failed); the
        connection goes back, or is thrown away."""
        if kind is None:  # not a DB-API error: a bug, shown as it is
            pool.discard(conn)
            raise exc
        table, family = where
        text = self._scrubbed(exc, table)
        if kind == "query":
            pool.release(conn)
            return QueryError(
                f"family {family!r}, table {table!r}: {text}", family=family, table=table
            )
        if kind == "conflict":  # the connection is sound: only the statement was rolled back
            pool.release(conn)
            tries = max(conflicts, 0) + 1
            return BackendError(
                f"{pool.label}: {text} (rolled back for a conflicting transaction; "
                f"{tries} attempt{'s' if tries > 1 else ''})"
            )
        pool.discard(conn)
        if kind in ("lost", "refused", "unknown"):
            pool.invalidate_idle()
            if kind == "unknown":
                return BackendError(
                    f"{pool.label}: the outcome is unknown: {text} (it may have been applied; "
                    "it was not run again)"
                )
            what = "connection lost" if kind == "lost" else "statement refused"
            return BackendError(f"{pool.label}: {what}: {text}")
        return BackendError(f"{pool.label}: {text}")

    def _scrubbed(self, exc: BaseException, table: str) -> str:
        """The error's text as one line, without the values it may quote."""
        info = self._tables.get(table)
        known = {table, *(info.columns if info is not None else ())}
        return scrub(self.reason(exc), known)

    # -- metadata -----------------------------------------------------------------------------

    @property
    def where(self) -> str:
        return self.label

    def _describe(self, name: str, family: str) -> TableInfo | None:
        """Read ``name``'s columns (``None``: no such table), usually through :meth:`_info`."""
        raise NotImplementedError

    def _info(self, name: str, facts: Sequence[ColumnFacts], extra: Mapping[str, Any]) -> TableInfo:
        """The :class:`TableInfo` of a table with columns ``facts`` (``extra``: per column)."""
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

    def load(self, family: str, table: str, conditions: tuple[Condition, ...]) -> Row | None:
        info = self._tables.get(table) or self.table(table, family)
        sql, params = self.statements.select(info, conditions, family, multi=False)
        values = self._run(self.reader, sql, params, ONE, (table, family), retry=True)
        if values is None:
            return None
        if all(values):  # nothing to leave out: the C-level path
            row = dict(zip(info.columns, values))
        else:
            row = {c: v for c, v in zip(info.columns, values) if v}
        if self.codec and "^" in "".join(row.values()):
            _decode_row(row)
        return row

    def load_multi(self, family: str, table: str, conditions: tuple[Condition, ...]) -> list[Row]:
        info = self._tables.get(table) or self.table(table, family)
        sql, params = self.statements.select(info, conditions, family, multi=True)
        rows = self._run(self.reader, sql, params, ALL, (table, family), retry=True)
        return _rows(info.columns, rows, self.codec)

    def update2(
        self,
        family: str,
        table: str,
        conditions: tuple[Condition, ...],
        values: tuple[tuple[str, str], ...],
    ) -> int:
        info = self._tables.get(table) or self.table(table, family)
        sql, params = self.statements.update(info, conditions, values, family)
        return int(self._run(self.writer, sql, params, ROWCOUNT, (table, family), retry=False))

    def store(self, family: str, table: str, values: tuple[tuple[str, str], ...]) -> int:
        info = self._tables.get(table) or self.table(table, family)
        sql, params = self.statements.insert(info, values, family)
        return int(self._run(self.writer, sql, params, ROWCOUNT, (table, family), retry=False))

    def destroy(self, family: str, table: str, conditions: tuple[Condition, ...]) -> int:
        info = self._tables.get(table) or self.table(table, family)
        sql, params = self.statements.delete(info, conditions, family)
        return int(self._run(self.writer, sql, params, ROWCOUNT, (table, family), retry=False))

    def load_static(self, table: str, filename: str) -> list[StaticTuple]:
        """The active rows of ``filename``, in the contract's order.

        The server returns them ready-made (NULLs coalesced, ``^3B``/``^5E`` decoded by
        :meth:`decode_sql` or cast by :meth:`static_select`), so the result tuples are handed
        over as they are: no Python object per row beyond the driver's own tuple, which
        matters for 10,000 rows (a tuple subclass per row cost as much again in cyclic GC).
        """
        info = self.table(table, filename)
        info.check(STATIC_COLUMNS, filename)
        sql = self.statements.static(table, info, self.static_select())
        name = encode(filename) if self.codec else filename
        rows = self._run(self.reader, sql, [name], ALL, (table, filename), retry=True)
        return rows if isinstance(rows, list) else list(rows)  # mysqlclient: a tuple

    # -- require ------------------------------------------------------------------------------

    def require(self, family: str, table: str, columns: Mapping[str, Requirement]) -> bool:
        """Check columns against ``RQ_*`` types and sizes; create what is missing (create modes)."""
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
            cols = ", ".join(f"{q(c)} {self.ddl_type(r)}" for c, r in columns.items())
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
                    f"ALTER TABLE {q(table)} ADD COLUMN {q(column)} {self.ddl_type(req)}",
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

    def _ddl(self, sql: str, table: str, family: str) -> None:
        log.info("%s: %s", self.label, sql)
        self._run(self.writer, sql, (), NOTHING, (table, family), retry=False)


#: Characters a MySQL client escapes with a backslash (each takes one byte more).
_ESCAPED = ("\\", "'", '"', "\x00", "\n", "\r", "\x1a")


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
