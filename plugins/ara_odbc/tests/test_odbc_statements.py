"""The statement text per DBMS, chosen from SQLGetInfo answers (no server: SQL Server and Sybase
cannot run here, so their spelling is pinned by these tests)."""

from __future__ import annotations

from typing import Any

import pytest

from ara_odbc import columns
from ara_odbc.dbms import Dbms, detect, kind_of
from ara_odbc.errors import classify, reason
from ara_odbc.tsql import TsqlStatements, escape_brackets
from ara_realtime.conditions import Condition
from ara_realtime.sql import DBAPIConnection, Statements, TableInfo
from ara_realtime.sql.schema import ColumnFacts


class FakeOdbc:
    """Answers SQLGetInfo and the one-row probes as a driver would (fault-free, no I/O)."""

    def __init__(self, info: dict[int, Any], scalars: dict[str, Any] | None = None) -> None:
        self.info = info
        self.scalars = scalars or {}

    def getinfo(self, code: int) -> Any:
        return self.info[code]

    def cursor(self) -> Any:
        outer = self

        class Cur:
            def execute(self, sql: str) -> None:
                self.value = outer.scalars[sql]

            def fetchone(self) -> tuple[Any]:
                return (self.value,)

            def close(self) -> None:
                pass

        return Cur()


def _info(name: str, quote: str = '"', like: str = "Y", driver: str = "x.so") -> dict[int, Any]:
    return {17: name, 18: "1.0", 6: driver, 29: quote, 113: like, 14: "\\"}


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("PostgreSQL", "postgresql"),
        ("MariaDB", "mysql"),
        ("MySQL", "mysql"),
        ("SQLite", "sqlite"),
        ("Microsoft SQL Server", "mssql"),
        ("SQL Server", "sybase"),
        ("Adaptive Server Enterprise", "sybase"),
        ("Oracle", "generic"),
    ],
)
def test_kind_from_sql_dbms_name(name: str, kind: str) -> None:
    assert kind_of(name) == kind


def test_detect_asks_sqlgetinfo_and_the_session() -> None:
    pg = detect(FakeOdbc(_info("PostgreSQL"), {"SELECT current_schema()": "public"}))
    assert (pg.kind, pg.schema, pg.quote_char) == ("postgresql", "public", '"')
    my = detect(
        FakeOdbc(
            _info("MariaDB", quote="`"),
            {
                "SELECT DATABASE()": "ara",
                "SELECT @@SESSION.sql_mode": "STRICT_TRANS_TABLES",
                "SELECT @@max_allowed_packet": 16777216,
            },
        )
    )
    assert (my.kind, my.mariadb, my.schema, my.backslash_literals) == ("mysql", True, "ara", True)
    assert my.max_packet == 16777216
    plain = detect(
        FakeOdbc(
            _info("MySQL", quote="`"),
            {
                "SELECT DATABASE()": "a",
                "SELECT @@SESSION.sql_mode": "ANSI,NO_BACKSLASH_ESCAPES",
                "SELECT @@max_allowed_packet": None,
            },
        )
    )
    assert plain.backslash_literals is False and plain.mariadb is False


INFO = TableInfo(
    name="peers",
    columns=("name", "port"),
    text=frozenset({"name"}),
    nullable=frozenset({"name", "port"}),
)


def _select(dbms: Dbms, *conds: Condition, multi: bool = False) -> str:
    d = dbms.dialect()
    st = (TsqlStatements if dbms.tsql else Statements)(d, codec=False)
    return st.select(INFO, conds, "f", multi=multi)[0]


EQ = Condition("name", "=", "a")
LIKE = Condition("name", "LIKE", "a%")


@pytest.mark.parametrize(
    ("dbms", "one", "like", "multi"),
    [
        (
            Dbms("postgresql", "PostgreSQL"),
            'SELECT * FROM "peers" WHERE "name" = ? LIMIT 1',
            'SELECT * FROM "peers" WHERE "name" LIKE ? ESCAPE \'\\\' LIMIT 1',
            'SELECT * FROM "peers" WHERE "name" = ? ORDER BY "name" NULLS FIRST',
        ),
        (
            Dbms("mysql", "MariaDB", backslash_literals=True),
            "SELECT * FROM `peers` WHERE `name` = ? LIMIT 1",
            "SELECT * FROM `peers` WHERE `name` LIKE ? ESCAPE '\\\\' LIMIT 1",
            "SELECT * FROM `peers` WHERE `name` = ? ORDER BY `name`",
        ),
        (
            Dbms("sqlite", "SQLite", like_escape_clause=False),
            'SELECT * FROM "peers" WHERE "name" = ? LIMIT 1',
            'SELECT * FROM "peers" WHERE "name" LIKE ? ESCAPE \'\\\' LIMIT 1',
            'SELECT * FROM "peers" WHERE "name" = ? ORDER BY "name"',
        ),
        (
            Dbms("mssql", "Microsoft SQL Server"),
            "SELECT TOP 1 * FROM [peers] WHERE [name] = ? AND LEN([name] + N'.') = LEN(? + N'.')",
            "SELECT TOP 1 * FROM [peers] WHERE [name] LIKE ? ESCAPE '\\'",
            "SELECT * FROM [peers] WHERE [name] = ? AND LEN([name] + N'.') = LEN(? + N'.') "
            "ORDER BY [name]",
        ),
        (
            Dbms("generic", "Informix", quote_char="'", like_escape_clause=False),
            "SELECT * FROM 'peers' WHERE 'name' = ?",
            "SELECT * FROM 'peers' WHERE 'name' LIKE ?",
            "SELECT * FROM 'peers' WHERE 'name' = ? ORDER BY 'name'",
        ),
    ],
    ids=lambda v: v.kind if isinstance(v, Dbms) else "",
)
def test_spelling_per_dbms(dbms: Dbms, one: str, like: str, multi: str) -> None:
    assert _select(dbms, EQ) == one
    assert _select(dbms, LIKE) == like
    assert _select(dbms, EQ, multi=True) == multi


def test_mysql_without_backslash_escapes_uses_a_plain_backslash() -> None:
    assert _select(Dbms("mysql", "MySQL", backslash_literals=False), LIKE).endswith(
        "ESCAPE '\\' LIMIT 1"
    )


def test_tsql_empty_values_ignore_no_spaces() -> None:
    mssql = Dbms("mssql", "Microsoft SQL Server")
    empty = _select(mssql, Condition("name", "=", ""))
    assert empty == "SELECT TOP 1 * FROM [peers] WHERE ([name] IS NULL OR DATALENGTH([name]) = 0)"
    nonempty = _select(mssql, Condition("name", "!=", ""))
    assert "([name] IS NOT NULL AND DATALENGTH([name]) > 0)" in nonempty
    other = _select(mssql, Condition("name", "!=", "a"))
    assert "([name] IS NULL OR NOT ([name] = ? AND LEN([name] + N'.') = LEN(? + N'.')))" in other
    less = _select(mssql, Condition("name", "<", "m"))
    assert "([name] < ? AND DATALENGTH([name]) > 0)" in less


def test_tsql_binds_the_value_twice_for_exact_equality() -> None:
    st = TsqlStatements(Dbms("mssql", "Microsoft SQL Server").dialect(), codec=True)
    _, params = st.select(INFO, (Condition("name", "=", "a;b"),), "f", multi=False)
    assert params == ["a^3Bb", "a^3Bb"]
    # the cached point look-up binds it twice too
    st.select(INFO, (Condition("name", "=", "x"),), "f", multi=False)
    assert st.select(INFO, (Condition("name", "=", "y"),), "f", multi=False)[1] == ["y", "y"]


@pytest.mark.parametrize(
    ("pattern", "sent"),
    [("a[b]c", "a\\[b]c"), ("\\[x", "\\[x"), ("[%", "\\[%"), ("no", "no"), ("a\\\\[", "a\\\\\\[")],
)
def test_tsql_like_brackets_are_literal(pattern: str, sent: str) -> None:
    assert escape_brackets(pattern) == sent
    st = TsqlStatements(Dbms("mssql", "Microsoft SQL Server").dialect())
    assert st.select(INFO, (Condition("name", "LIKE", pattern),), "f", multi=True)[1] == [sent]


def test_tsql_column_sql_and_ddl() -> None:
    mssql = Dbms("mssql", "Microsoft SQL Server")
    q = mssql.quote()
    text = ColumnFacts("name", "text", "nvarchar", True, 40)
    how = columns.column_sql(
        mssql, "peers", text, {}, codec=True, quote=q, decode=DBAPIConnection.decode_sql
    )
    assert how.eq == "[name] COLLATE Latin1_General_BIN2"
    assert how.like is not None and how.like.endswith("COLLATE Latin1_General_BIN2")
    assert how.like.startswith("REPLACE(")
    port = ColumnFacts("port", "int", "int", True, None, (-(2**31), 2**31 - 1))
    assert columns.column_sql(mssql, "peers", port, {}, codec=True, quote=q, decode=str).select == (
        "CAST([port] AS NVARCHAR(64))"
    )
    sybase = Dbms("sybase", "Adaptive Server Enterprise")
    plain = columns.column_sql(sybase, "peers", text, {}, codec=False, quote=q, decode=str)
    assert plain.eq is None and plain.order == "[name]"
    assert mssql.engine == "mssql" and sybase.engine == "mssql"


def test_sqlcolumns_rows_become_column_facts() -> None:
    pg = Dbms("postgresql", "PostgreSQL")
    my = Dbms("mysql", "MariaDB")

    def row(
        name: str, code: int, type_name: str, size: int | None, digits: int | None = None
    ) -> tuple[Any, ...]:
        return ("cat", "sch", "t", name, code, type_name, size, None, digits, 10, 1)

    assert columns.column_facts(row("a", -9, "varchar", 40), pg).length == 40
    assert columns.column_facts(row("a", -10, "text", 8190), pg).length is None
    assert columns.column_facts(row("e", -9, "yes_no_values", 255), pg).kind == "enum"
    assert columns.column_facts(row("b", 12, "bool", 5), pg).kind == "other"
    assert columns.column_facts(row("n", 2, "numeric", 20, 0), pg).int_range == (
        -(10**20 - 1),
        10**20 - 1,
    )
    assert columns.column_facts(row("u", 4, "INT UNSIGNED", 10, 0), my).int_range == (0, 2**32 - 1)
    assert columns.column_facts(row("m", 4, "MEDIUMINT", 7, 0), my).int_range == (
        -(2**23),
        2**23 - 1,
    )
    assert columns.column_facts(row("e", -8, "ENUM", 3), my).kind == "enum"
    lite = columns.column_facts(row("x", 12, "VARCHAR(40)", 40), Dbms("sqlite", "SQLite"))
    assert (lite.kind, lite.length) == ("text", None)  # SQLite enforces no length


class _Err(Exception):
    pass


@pytest.mark.parametrize(
    ("args", "kind", "expected"),
    [
        (("08S01", "[08S01] Communication link failure"), "generic", "lost"),
        (("HY000", "[HY000] server closed the connection unexpectedly"), "postgresql", "lost"),
        (
            ("57P01", "[57P01] terminating connection due to administrator command"),
            "postgresql",
            "lost",
        ),
        (("42S22", "[42S22] Unknown column 'x' in 'SELECT' (1054)"), "mysql", "query"),
        (("23000", "[23000] Duplicate entry"), "mysql", "query"),
        (("22001", "[22001] value too long"), "postgresql", "query"),
        (("HY000", "[HY000] [SQLite]no such column: x (1)"), "sqlite", "query"),
        (("HY000", "[HY000] [SQLite]database is locked (5)"), "sqlite", "backend"),
        (("HYT00", "[HYT00] Timeout expired"), "generic", "backend"),
        # a server taking no writes: no use for them, the class moves to its next DSN
        (
            ("25006", "[25006] cannot execute UPDATE in a read-only transaction"),
            "postgresql",
            "lost",
        ),
        (
            (
                "HY000",
                "[HY000] [ma-3.1.15][10.11.19-MariaDB]The MariaDB server is running with the "
                "--read-only option so it cannot execute this statement (1290) (SQLExecDirectW)",
            ),
            "mysql",
            "lost",
        ),
        (
            (
                "HY000",
                "[HY000] Parameter of prepared statement which is set through "
                "mysql_send_long_data() is longer than 'max_long_data_size' bytes (1105)",
            ),
            "mysql",
            "query",
        ),
    ],
)
def test_error_classes(args: tuple[str, str], kind: Any, expected: str) -> None:
    assert classify(_Err(*args), kind, _Err) == expected
    assert classify(ValueError("x"), kind, _Err) is None


def test_error_text_loses_tags_and_keeps_the_sqlstate() -> None:
    exc = _Err(
        "42S22",
        "[42S22] [ma-3.1.15][10.11.19-MariaDB-0+deb12u1]Unknown column 'x' in 'SELECT' (1054) "
        "(SQLExecDirectW)",
    )
    assert reason(exc) == "Unknown column 'x' in 'SELECT' (1054) (SQLSTATE 42S22)"
    pg = _Err(
        "42703",
        '[42703] ERROR: column "x" does not exist;\nError while executing the query (1) '
        "(SQLExecDirectW)",
    )
    assert reason(pg) == 'column "x" does not exist (SQLSTATE 42703)'
