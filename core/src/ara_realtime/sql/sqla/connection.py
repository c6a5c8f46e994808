"""SQL drivers on SQLAlchemy: engines and pools, reflection, error classes.

A driver subclasses :class:`SQLAlchemyConnection` (its plugin is
``ara_realtime.driver.ConnectionDriver(TheConnection)``) and supplies its settings reader
(:meth:`SQLAlchemyConnection.read_config`), statement :class:`~ara_realtime.sql.Dialect`,
per-column expressions (:meth:`~ara_realtime.sql.base.DBAPIConnection.column_sql`), and which
DB-API errors are the caller's mistake (:meth:`SQLAlchemyConnection.is_query_error`). The
operations themselves are :class:`~ara_realtime.sql.base.DBAPIConnection`'s.

SQLAlchemy gives URLs, dialects, the connection pool (size, overflow, acquire timeout, pings)
and reflection; the hot path runs the cached statement text on the pooled DB-API connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy
from sqlalchemy import exc as sa_exc

from ...errors import BackendError, ConfigError, QueryError
from ..base import ColumnSQL, DBAPIConnection, ErrorKind
from ..messages import scrub
from ..statements import Dialect, TableInfo
from .pool import Pool
from .schema import column_facts
from .settings import ConnectSpec
from .timeouts import Watches

__all__ = ["ColumnSQL", "SQLAlchemyConnection"]


class SQLAlchemyConnection(DBAPIConnection):
    """One database (or a ``read/write`` pair) of an SQL driver built on SQLAlchemy."""

    #: How statements are spelled.
    DIALECT: ClassVar[Dialect]

    reader: Pool
    writer: Pool

    def __init__(
        self, database: str, settings: Mapping[str, str], config_dir: Path | None = None
    ) -> None:
        spec = self.read_config(database, settings, config_dir)
        # the storage form and require's mode follow the section that writes
        common = (spec.write or spec).settings
        reader = self._pool(spec)
        super().__init__(
            database,
            spec.whole or spec.label,
            dialect=self.DIALECT,
            codec=common.codec,
            mode=common.requirements,
            reader=reader,
            writer=self._pool(spec.write) if spec.write is not None else reader,
        )
        self.settings = common
        self.spec = spec

    @classmethod
    def read_config(
        cls, database: str, settings: Mapping[str, str], config_dir: Path | None
    ) -> ConnectSpec:
        """The driver's ``res_*.conf`` reader."""
        raise NotImplementedError

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
            raise ConfigError(f"{spec.label}: {type(exc).__name__}: {exc}") from None
        watches = Watches(
            engine,
            spec.label,
            socket_of=self.socket_of,
            query_timeout=s.query_timeout,
            connect_timeout=s.connect_timeout,
        )

        @sqlalchemy.event.listens_for(engine, "do_connect")
        def connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
            # a URL option the DB-API does not know (?bogus_option=1) is the user's mistake
            try:
                return watches.connect(dialect, cargs, cparams)  # (timed)
            except TypeError as exc:
                raise spec.source.error(
                    f"{spec.label}: a connection option is not accepted by the DB-API: {exc}"
                ) from None

        return Pool(
            engine,
            spec.label,
            size=s.pool_size,
            timeout=s.pool_timeout,
            ping_after=s.pool_pre_ping,
            recycle=s.pool_recycle,
            watches=watches,
        )

    # -- engine-specific parts ----------------------------------------------------------------

    def reflect_extra(
        self, conn: sqlalchemy.Connection, schema: str | None, table: str
    ) -> dict[str, Any]:
        """Facts SQLAlchemy's reflection lacks (MySQL: column collations), per column."""
        return {}

    def is_query_error(self, exc: BaseException) -> bool:
        """True if a DB-API error is the caller's mistake (constraint, unknown column, value)."""
        raise NotImplementedError

    def socket_of(self, dbapi_connection: Any) -> int | None:
        """The socket descriptor of a DB-API connection: where a stalled call is cut."""
        return int(dbapi_connection.fileno())

    def is_disconnect(self, exc: BaseException) -> bool:
        """True if ``exc`` means the connection is gone (besides what SQLAlchemy detects)."""
        return False

    def classify(self, exc: BaseException) -> ErrorKind | None:
        dialect: Any = self.reader.engine.dialect
        if not isinstance(exc, dialect.loaded_dbapi.Error):
            return None
        if self.is_disconnect(exc):
            return "lost"
        try:
            if dialect.is_disconnect(exc, None, None):
                return "lost"
        except Exception:  # noqa: S110  (a dialect that cannot tell: not a disconnect)
            pass
        return "query" if self.is_query_error(exc) else "backend"

    # -- metadata -----------------------------------------------------------------------------

    def _describe(self, name: str, family: str) -> TableInfo | None:
        schema, _, table = name.rpartition(".")
        engine = self.writer.engine
        try:
            with self.writer.connect() as conn, self.writer.watches.bounded(conn):
                insp = sqlalchemy.inspect(conn)
                if not insp.has_table(table, schema=schema or None):
                    return None
                cols = insp.get_columns(table, schema=schema or None)
                extra = self.reflect_extra(conn, schema or None, table)
        except sa_exc.DBAPIError as exc:
            orig = exc.orig if exc.orig is not None else exc
            text = scrub(self.reason(orig), {name, table, schema})
            if exc.connection_invalidated or not self.is_query_error(orig):
                raise BackendError(f"{self.label}: reading table {name!r}: {text}") from None
            raise QueryError(
                f"family {family!r}: table {name!r}: {text}", family=family, table=name
            ) from None
        except sa_exc.TimeoutError:
            raise self.writer.timeout_error() from None
        facts = [
            column_facts(c["name"], c["type"], bool(c["nullable"]), engine.dialect) for c in cols
        ]
        return self._info(name, facts, extra)
