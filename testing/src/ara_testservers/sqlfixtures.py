"""pytest fixtures shared by the SQL drivers' tests, parameterised by the kind of server.

A driver's ``conftest.py`` star-imports them and names its driver (mysql also runs every test
on each of its DB-APIs)::

    from ara_testservers.sqlfixtures import *  # noqa: F403

    @pytest.fixture(scope="session")
    def sql_driver() -> str:
        return "pgsql"

Everything else follows from :data:`KINDS` ``[sql_driver]``:

``sql_server``
    the running server (``pg_server`` or ``mariadb_server`` from :mod:`.fixtures`);
``sql_settings``
    the driver's settings reaching it (with ``dbapi`` where the driver has several);
``make_rt(mappings, database="ara", **settings)``
    a ``Realtime`` on that server, closed after the test;
``rt``
    a ``Realtime`` whose family ``peers`` maps to a new table with :data:`PEER_COLUMNS`;
``sql(statement, params=None)``
    runs SQL on database ``ara`` *without* the driver (a DB-API connection beside it,
    reopened after a server restart) and returns the rows;
``sql_tables(base)``
    a fresh table name, dropped after the test;
``asterisk_db``
    (per test module) a database holding Asterisk's own tables for that server
    (:func:`~ara_testservers.schemas.asterisk_schema` of its DBMS);
``ast``
    a ``Realtime`` on it, database ``asterisk``: each table is the family of its name
    (``ast_config`` serves ``extensions.conf``); rows are deleted after each test.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ara_realtime import Realtime
from ara_realtime.plugins import Plugins

from .schemas import asterisk_schema, asterisk_tables
from .servers import MariaDBServer, PostgresServer

__all__ = [
    "KINDS",
    "PEER_COLUMNS",
    "SqlKind",
    "SqlServer",
    "ast",
    "asterisk_db",
    "dbapi",
    "make_rt",
    "rt",
    "sql",
    "sql_kind",
    "sql_plugins",
    "sql_raw_connection",
    "sql_server",
    "sql_settings",
    "sql_tables",
]

#: The servers the SQL drivers are tested on.
SqlServer = PostgresServer | MariaDBServer

#: The table family ``peers`` of the ``rt`` fixture maps to.
PEER_COLUMNS = {
    "name": ("char", 40),
    "host": ("char", 40),
    "port": ("integer4", 11),
    "lastms": ("integer4", 11),
}


def _admin(
    server: SqlServer, statements: str, database: str | None = None, *, as_user: bool = False
) -> None:
    """Run SQL as the server's superuser (or as the test user) through its command-line client."""
    if isinstance(server, PostgresServer):
        user = server.user if as_user else "postgres"
        server.psql(statements, database=database or "postgres", user=user)
    else:
        server.sql(statements, database=database)


@dataclass(frozen=True)
class SqlKind:
    """What differs between the SQL drivers' test set-ups."""

    driver: str
    #: the session fixture (:mod:`.fixtures`) that starts this kind of server
    server_fixture: str
    server_class: type[SqlServer]
    #: the DB-API module of the back door (not the driver's), and its name for the database
    dbapi_module: str
    database_argument: str
    #: identifier quoting of the server's SQL
    quote_char: str
    #: the setting holding the password, and what the server says when it refuses a login
    credential_setting: str
    login_refused: str
    #: ``{name}`` (and ``{user}``, the owner) filled in
    create_database_sql: str
    drop_database_sql: str
    #: the DBMS whose Asterisk schema its tests load (:mod:`.schemas`)
    dbms: str

    def connect(self, server: SqlServer) -> Any:
        """A DB-API connection to the server's database ``ara``, in autocommit mode."""
        module: Any = importlib.import_module(self.dbapi_module)
        extra = {"charset": "utf8mb4"} if self.dbapi_module == "pymysql" else {}
        return module.connect(
            host="127.0.0.1",
            port=server.port,
            user=server.user,
            password=server.password,
            autocommit=True,
            **{self.database_argument: server.database},
            **extra,
        )

    def gone(self) -> tuple[type[BaseException], ...]:
        """The DB-API errors that mean the connection is gone (the server restarted)."""
        module: Any = importlib.import_module(self.dbapi_module)
        return (module.OperationalError, module.InterfaceError)

    def quote(self, name: str) -> str:
        q = self.quote_char
        return q + name.replace(q, q + q) + q

    def create_database(self, server: SqlServer, name: str, schema: str) -> None:
        """A new database ``name`` owned by the test user, holding ``schema``'s objects."""
        _admin(server, self.create_database_sql.format(name=name, user=server.user))
        _admin(server, schema, name, as_user=True)

    def run_in(self, server: SqlServer, name: str, statements: str) -> None:
        _admin(server, statements, name)

    def drop_database(self, server: SqlServer, name: str) -> None:
        _admin(server, self.drop_database_sql.format(name=name))


KINDS: dict[str, SqlKind] = {
    "pgsql": SqlKind(
        driver="pgsql",
        server_fixture="pg_server",
        server_class=PostgresServer,
        dbapi_module="psycopg",
        database_argument="dbname",
        quote_char='"',
        credential_setting="password",
        login_refused="password authentication failed",
        create_database_sql="CREATE DATABASE {name} OWNER {user}",
        drop_database_sql="DROP DATABASE {name} WITH (FORCE)",
        dbms="postgresql",
    ),
    "mysql": SqlKind(
        driver="mysql",
        server_fixture="mariadb_server",
        server_class=MariaDBServer,
        dbapi_module="pymysql",
        database_argument="database",
        quote_char="`",
        credential_setting="dbpass",
        login_refused="Access denied",
        create_database_sql="CREATE DATABASE {name} CHARACTER SET utf8mb4",
        drop_database_sql="DROP DATABASE {name}",
        dbms="mariadb",
    ),
}

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def sql_kind(sql_driver: str) -> SqlKind:
    return KINDS[sql_driver]


@pytest.fixture(scope="session")
def sql_server(request: pytest.FixtureRequest, sql_kind: SqlKind) -> SqlServer:
    server = request.getfixturevalue(sql_kind.server_fixture)
    if not isinstance(server, sql_kind.server_class):
        raise TypeError(f"{sql_kind.server_fixture} gave {type(server).__name__}")
    return server


@pytest.fixture
def dbapi() -> str | None:
    """The DB-API the driver uses (``None``: it has one); mysql overrides it with params."""
    return None


@pytest.fixture
def sql_settings(sql_server: SqlServer, dbapi: str | None) -> dict[str, str]:
    """The driver's settings reaching the test server (database ``ara``)."""
    settings = sql_server.settings()
    if dbapi is not None:
        settings["dbapi"] = dbapi
    return settings


@pytest.fixture(scope="session")
def sql_plugins() -> Plugins:
    return Plugins()


@pytest.fixture(scope="session")
def sql_raw_connection(sql_kind: SqlKind) -> Iterator[list[Any]]:
    """Holds the connection ``sql`` uses (at most one; replaced when the server restarts)."""
    holder: list[Any] = []
    yield holder
    for conn in holder:
        conn.close()


@pytest.fixture
def sql(
    sql_kind: SqlKind, sql_server: SqlServer, sql_raw_connection: list[Any]
) -> Callable[..., list[tuple[Any, ...]]]:
    """``sql(statement, params=None)``: SQL on database ``ara`` without the driver."""

    def once(statement: str, params: Any) -> list[tuple[Any, ...]]:
        if not sql_raw_connection:
            sql_raw_connection.append(sql_kind.connect(sql_server))
        cur = sql_raw_connection[0].cursor()
        try:
            cur.execute(statement, params)
            return [tuple(row) for row in cur.fetchall()] if cur.description else []
        finally:
            cur.close()

    def run(statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        try:
            return once(statement, params)
        except sql_kind.gone():  # the server restarted under the connection
            stale = sql_raw_connection.pop()
            try:
                stale.close()
            except sql_kind.gone():
                pass
            return once(statement, params)

    return run


@pytest.fixture
def sql_tables(
    sql_kind: SqlKind, sql: Callable[..., list[tuple[Any, ...]]]
) -> Iterator[Callable[[str], str]]:
    """``new(base)`` -> a fresh table name, dropped after the test."""
    made: list[str] = []

    def new(base: str) -> str:
        name = f"t{next(_counter)}_{base}"
        made.append(name)
        return name

    yield new
    for name in made:
        sql(f"DROP TABLE IF EXISTS {sql_kind.quote(name)}")


@pytest.fixture
def make_rt(
    sql_kind: SqlKind, sql_settings: dict[str, str], sql_plugins: Plugins
) -> Iterator[Callable[..., Realtime]]:
    """``make_rt(mappings, database="ara", **settings)`` -> a Realtime on the test server."""
    opened: list[Realtime] = []

    def make(mappings: dict[str, str], database: str = "ara", **settings: str) -> Realtime:
        drivers = {sql_kind.driver: {database: {**sql_settings, **settings}}}
        made = Realtime(mappings, drivers, plugins=sql_plugins)
        opened.append(made)
        return made

    yield make
    for made in opened:
        made.close()


@pytest.fixture
def rt(
    sql_kind: SqlKind, make_rt: Callable[..., Realtime], sql_tables: Callable[[str], str]
) -> Realtime:
    """Family ``peers`` -> a new table with :data:`PEER_COLUMNS` (``createclose``)."""
    made = make_rt(
        {"peers": f"{sql_kind.driver},ara,{sql_tables('peers')}"}, requirements="createclose"
    )
    assert made.require("peers", PEER_COLUMNS)
    return made


_ASTERISK_DB = "asterisk_schema"


@pytest.fixture(scope="module")
def asterisk_db(sql_kind: SqlKind, sql_server: SqlServer) -> Iterator[str]:
    """A database holding Asterisk's own tables on this kind of server."""
    sql_kind.create_database(sql_server, _ASTERISK_DB, asterisk_schema(sql_kind.dbms))
    try:
        yield _ASTERISK_DB
    finally:
        sql_kind.drop_database(sql_server, _ASTERISK_DB)


@pytest.fixture
def ast(
    request: pytest.FixtureRequest,
    asterisk_db: str,
    sql_kind: SqlKind,
    sql_server: SqlServer,
    make_rt: Callable[..., Realtime],
) -> Iterator[Realtime]:
    """Asterisk's tables, each the family of its name (``ast_config``: ``extensions.conf``)."""
    tables = asterisk_tables(sql_kind.dbms)
    mappings = {
        "extensions.conf" if t == "ast_config" else t: f"{sql_kind.driver},asterisk,{t}"
        for t in tables
    }
    yield make_rt(mappings, database="asterisk", dbname=asterisk_db)
    deletes = "".join(f"DELETE FROM {sql_kind.quote(t)};" for t in tables)
    sql_kind.run_in(sql_server, asterisk_db, deletes)
