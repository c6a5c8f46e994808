"""PostgreSQL's change feed: triggers that ``NOTIFY``, and a connection that ``LISTEN``s.

:meth:`PgsqlChangeFeed.setup` (``realtime cache install``) installs, per table, four
statement-level triggers (``AFTER INSERT``, ``UPDATE``, ``DELETE``, ``TRUNCATE``) calling one
function, ``ara_realtime_notify(key)``. Each sends one notification per statement on channel
``ara_realtime``, at commit, to every listening session of the database, whoever changed the
rows (the driver, ``psql``, another application)::

    {"s": "public", "t": "sippeers", "c": "name", "v": ["alice", "bob"]}

``v`` lists the distinct old and new values of the key column ``c`` of the rows the statement
touched (read from its transition tables); a notification over 7,900 bytes, a ``TRUNCATE`` or a
table installed without a key names the table only. A statement that touched no row sends
nothing. Nothing is installed unless asked: without the triggers a table is not ``ready`` and
the cache keeps its rows by ``ttl`` alone.

:meth:`PgsqlChangeFeed.subscribe` opens a connection of its own (through the driver's engine,
so with the same settings, then detached from its pool), sets TCP keep-alives and a user
timeout on it (a peer that vanished without closing is noticed in about 10 seconds), and
``LISTEN``s. Every statement it runs is bounded by the driver's ``query_timeout`` (the
driver's watchdog cuts a stalled one), the wait for notifications by its own timeout.
Notifications are not replicated to standby servers: with a ``read/write`` pair the feed
listens on the writer, where changes are committed. A server that stops being the writable
primary without closing its connections (fenced with ``default_transaction_read_only``, or
in recovery) would never notify again, while the new primary commits the changes: the
listener asks its server when subscribing and then every 5 seconds (:data:`_PING_AFTER`)
whether it is still the primary (not in recovery) and, where writes connect with libpq's
``target_session_attrs = read-write`` (a host list), writable; otherwise it reports the feed
as lost, so that the cache subscribes again, on the new primary. With one server a read-only
session is a read-only role (its ``LISTEN`` works), not a fenced primary.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from sqlalchemy import exc as sa_exc

from ara_realtime.changes import Change, ChangeFeed, Subscription
from ara_realtime.errors import BackendError, QueryError
from ara_realtime.sql.codec import decode

if TYPE_CHECKING:
    from .driver import PgsqlConnection

__all__ = ["CHANNEL", "FUNCTION", "TRIGGERS", "PgsqlChangeFeed"]

log = logging.getLogger(__name__)

#: The channel every trigger notifies and every subscription listens on.
CHANNEL = "ara_realtime"
#: The trigger function (created in the connection's current schema).
FUNCTION = "ara_realtime_notify"
#: Trigger name -> (event, transition tables).
TRIGGERS: dict[str, tuple[str, str]] = {
    "ara_realtime_insert": ("INSERT", "REFERENCING NEW TABLE AS ara_new"),
    "ara_realtime_update": ("UPDATE", "REFERENCING OLD TABLE AS ara_old NEW TABLE AS ara_new"),
    "ara_realtime_delete": ("DELETE", "REFERENCING OLD TABLE AS ara_old"),
    "ara_realtime_truncate": ("TRUNCATE", ""),
}
#: NOTIFY payloads must stay under 8,000 bytes.
_PAYLOAD_LIMIT = 7900
#: The listening connection is pinged this often (seconds): a closed one is found then, and
#: one on a server that is no longer the writable primary.
_PING_AFTER = 5.0
#: Whether the server is the writable primary: ``transaction_read_only`` of a new transaction
#: is on in recovery (a standby) and with ``default_transaction_read_only`` (a fenced primary).
_ROLE_SQL = "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')"
#: TCP keep-alive (idle, interval, count) and user timeout of the listening connection.
_KEEPALIVE = (4, 2, 3)
_USER_TIMEOUT_MS = 10_000

_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $ara$
DECLARE
    key text := NULLIF(TG_ARGV[0], '');
    vals jsonb;
    payload text;
BEGIN
    IF TG_OP <> 'TRUNCATE' AND key IS NOT NULL THEN
        IF TG_OP = 'INSERT' THEN
            SELECT jsonb_agg(DISTINCT to_jsonb(r) ->> key) INTO vals FROM ara_new r;
        ELSIF TG_OP = 'DELETE' THEN
            SELECT jsonb_agg(DISTINCT to_jsonb(r) ->> key) INTO vals FROM ara_old r;
        ELSE
            SELECT jsonb_agg(DISTINCT v) INTO vals FROM (
                SELECT to_jsonb(r) ->> key AS v FROM ara_old r
                UNION ALL
                SELECT to_jsonb(r) ->> key FROM ara_new r
            ) AS changed;
        END IF;
        IF vals IS NULL THEN
            RETURN NULL;  -- the statement touched no row
        END IF;
        payload := jsonb_build_object(
            's', TG_TABLE_SCHEMA, 't', TG_TABLE_NAME, 'c', key, 'v', vals)::text;
    END IF;
    IF payload IS NULL OR octet_length(payload) > {_PAYLOAD_LIMIT} THEN
        payload := jsonb_build_object('s', TG_TABLE_SCHEMA, 't', TG_TABLE_NAME)::text;
    END IF;
    PERFORM pg_notify('{CHANNEL}', payload);
    RETURN NULL;
END
$ara$
"""


def _table_sql(table: str) -> sql.Composable:
    return sql.SQL(".").join(sql.Identifier(part) for part in table.split("."))


class PgsqlChangeFeed(ChangeFeed):
    """Changes to a pgsql connection's tables, pushed by the server (``LISTEN/NOTIFY``)."""

    kind = "notify"

    def __init__(self, connection: PgsqlConnection) -> None:
        self.connection = connection

    # -- a connection of its own ----------------------------------------------------------

    def _bounded(self, conn: psycopg.Connection[Any]) -> contextlib.AbstractContextManager[None]:
        """A block of statements on ``conn`` under the driver's ``query_timeout``."""
        return self.connection.writer.watches.of(conn).bounded(self.connection.label)

    def _connect(self) -> psycopg.Connection[Any]:
        """A new connection with the driver's settings, owned by the caller (not pooled)."""
        engine = self.connection.writer.engine
        label = self.connection.label
        try:
            fairy = engine.raw_connection()
        except sa_exc.DBAPIError as exc:
            raise BackendError(f"{label}: cannot connect: {_reason(exc.orig)}") from None
        except (psycopg.Error, sa_exc.TimeoutError) as exc:
            raise BackendError(f"{label}: cannot connect: {_reason(exc)}") from None
        conn: Any = fairy.dbapi_connection
        fairy.detach()  # ours now: closing it really closes it, and it takes no pool slot
        conn.autocommit = True
        return conn  # type: ignore[no-any-return]

    def _error(self, exc: BaseException, table: str) -> Exception:
        """The driver's taking of a psycopg error: the caller's mistake, or the storage's."""
        text = self.connection.reason(exc)
        kind = self.connection.classify(exc)
        if kind == "query":
            return QueryError(f"{self.connection.label}: table {table!r}: {text}", table=table)
        return BackendError(f"{self.connection.label}: {text}")

    # -- installing -----------------------------------------------------------------------

    def setup(self, tables: Mapping[str, str | None]) -> None:
        conn = self._connect()
        try:
            for table, key in tables.items():
                try:
                    with self._bounded(conn), conn.transaction():
                        self._install(conn, table, key)
                except psycopg.Error as exc:
                    raise self._error(exc, table) from None
        finally:
            conn.close()

    def _install(self, conn: psycopg.Connection[Any], table: str, key: str | None) -> None:
        found = conn.execute("SELECT to_regclass(%s)", (_quoted(table),)).fetchone()
        if found is None or found[0] is None:
            raise QueryError(
                f"{self.connection.label}: table {table!r} does not exist", table=table
            )
        if (
            key is not None
            and not conn.execute(
                "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s "
                "AND attnum > 0 AND NOT attisdropped",
                (_quoted(table), key),
            ).fetchone()
        ):
            raise QueryError(
                f"{self.connection.label}: table {table!r} has no column {key!r} "
                "(the cache's key for it)",
                table=table,
            )
        conn.execute(_FUNCTION_SQL)
        for name, (event, referencing) in TRIGGERS.items():
            conn.execute(
                sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
                    sql.Identifier(name), _table_sql(table)
                )
            )
            conn.execute(
                sql.SQL(
                    "CREATE TRIGGER {} AFTER " + event + " ON {} " + referencing + " "
                    "FOR EACH STATEMENT EXECUTE FUNCTION " + FUNCTION + "({})"
                ).format(sql.Identifier(name), _table_sql(table), sql.Literal(key or ""))
            )
        log.info("%s: notifications installed on %s (key %s)", self.connection.label, table, key)

    def teardown(self, tables: Collection[str]) -> None:
        conn = self._connect()
        try:
            for table in tables:
                try:
                    with self._bounded(conn), conn.transaction():
                        for name in TRIGGERS:
                            conn.execute(
                                sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
                                    sql.Identifier(name), _table_sql(table)
                                )
                            )
                except psycopg.errors.UndefinedTable:
                    continue
                except psycopg.Error as exc:
                    raise self._error(exc, table) from None
        finally:
            conn.close()

    def ready(self, tables: Collection[str]) -> frozenset[str]:
        conn = self._connect()
        try:
            out = set()
            with self._bounded(conn):
                for table in tables:
                    row = conn.execute(
                        "SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass(%s) "
                        "AND tgname = ANY(%s) AND NOT tgisinternal",
                        (_quoted(table), list(TRIGGERS)),
                    ).fetchone()
                    if row is not None and row[0] == len(TRIGGERS):
                        out.add(table)
            return frozenset(out)
        except psycopg.Error as exc:
            raise BackendError(f"{self.connection.label}: {self.connection.reason(exc)}") from None
        finally:
            conn.close()

    # -- listening ------------------------------------------------------------------------

    def subscribe(self, tables: Mapping[str, str | None], *, interval: float) -> Subscription:
        covered = self.ready(tables)
        return _Listener(self, covered)


class _Listener(Subscription):
    """``LISTEN ara_realtime`` on a connection of its own; notifications become changes."""

    def __init__(self, feed: PgsqlChangeFeed, tables: frozenset[str]) -> None:
        self.tables = tables
        self.bound = 0.0
        self._label = feed.connection.label
        self._codec = feed.connection.codec
        self._conn = feed._connect()
        self._feed = feed
        spec = feed.connection.spec
        #: writes connect with ``target_session_attrs = read-write`` (several hosts, or reads
        #: from standbys): a read-only server is then not where changes are committed
        self._writable = (spec.write or spec).connect_args.get(
            "target_session_attrs"
        ) == "read-write"
        try:
            _keepalive(self._conn)
            with feed._bounded(self._conn):
                self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                not_primary = self._not_primary()
        except psycopg.Error as exc:
            self._conn.close()
            raise BackendError(f"{self._label}: cannot listen: {_reason(exc)}") from None
        if not_primary:
            self._conn.close()
            feed.connection.writer.invalidate_idle()  # see wait()
            raise BackendError(f"{self._label}: cannot listen: {not_primary}")
        self._checked = time.monotonic()

    def wait(self, timeout: float) -> list[Change] | None:
        conn = self._conn
        out: list[Change] = []
        lost = False
        try:
            for note in conn.notifies(timeout=timeout, stop_after=1):
                lost |= self._take(note.payload, out)
            if out or lost:  # whatever else already arrived comes in the same batch
                for note in conn.notifies(timeout=0):
                    lost |= self._take(note.payload, out)
            # checked even while notifications flow: a fenced primary may still send some
            if time.monotonic() - self._checked > _PING_AFTER:
                with self._feed._bounded(conn):  # a connection the server closed says so now
                    not_primary = self._not_primary()
                if not_primary:
                    # the writer's pooled connections are on the same server (reads from it
                    # would refill the cache with rows the new primary changed): the next call
                    # connects anew, and libpq's host list skips this server
                    self._feed.connection.writer.invalidate_idle()
                    raise BackendError(f"{self._label}: listening: {not_primary}")
                self._checked = time.monotonic()
        except psycopg.Error as exc:
            raise BackendError(f"{self._label}: listening: {_reason(exc)}") from None
        return None if lost else out

    def _not_primary(self) -> str | None:
        """Why the server is not the writable primary, or ``None`` if it is.

        Changes are committed, and notified, only on the writable primary: a standby (in
        recovery, notifications are not replicated) or a primary fenced read-only while
        another one is promoted would leave the feed silent for good.
        """
        row = self._conn.execute(_ROLE_SQL).fetchone()
        if row is None:  # pragma: no cover - the query always returns a row
            return "the server did not say whether it is the primary"
        recovery, read_only = row
        if recovery:
            return "the server is a standby (in recovery), not the primary"
        # a read-only session is a fenced primary only where writes ask for a writable one
        # (a host list): with one server it may be a read-only role, whose LISTEN works
        if self._writable and str(read_only).lower() == "on":
            return "the server is read-only (default_transaction_read_only), not the primary"
        return None

    def _take(self, payload: str, out: list[Change]) -> bool:
        """Add the change ``payload`` describes; ``True`` if it cannot be understood."""
        try:
            data = json.loads(payload)
            schema, name = data["s"], data["t"]
        except (ValueError, KeyError, TypeError):
            log.warning("%s: a notification on %s not from ara-realtime", self._label, CHANNEL)
            return True
        table = name if name in self.tables else f"{schema}.{name}"
        if table not in self.tables:
            return False
        column, values = data.get("c"), data.get("v")
        if not isinstance(column, str) or not isinstance(values, list):
            out.append(Change(table))
            return False
        keys: set[str] = set()
        for value in values:
            if value is None:
                keys.add("")
            elif isinstance(value, str):
                value = decode(value) if self._codec else value
                keys.update((value, value.rstrip(" ")))  # char(n) pads with spaces
            else:
                out.append(Change(table))
                return False
        out.append(Change(table, column, frozenset(keys)))
        return False

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.close()


def _keepalive(conn: psycopg.Connection[Any]) -> None:
    """TCP keep-alives and a user timeout on the listening socket (not for Unix sockets)."""
    try:
        sock = socket.socket(fileno=conn.fileno())
    except OSError:
        return
    try:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        idle, interval, count = _KEEPALIVE
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for option, value in (
            ("TCP_KEEPIDLE", idle),
            ("TCP_KEEPINTVL", interval),
            ("TCP_KEEPCNT", count),
            ("TCP_USER_TIMEOUT", _USER_TIMEOUT_MS),
        ):
            if hasattr(socket, option):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
    except OSError as exc:
        log.debug("cannot set keep-alives on the listening connection: %s", exc)
    finally:
        sock.detach()  # the descriptor stays psycopg's


def _quoted(table: str) -> str:
    """``table`` as ``to_regclass`` reads it (each part quoted)."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in table.split("."))


def _reason(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return str(primary) if primary else (" ".join(str(exc).split()) or type(exc).__name__)
