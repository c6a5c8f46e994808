"""Static configuration through drivers: mappings, ``global``, includes both ways, errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ara_realtime import BackendError, Config, ConfigError, QueryError, Realtime
from ara_realtime.datatypes import StaticRow
from ara_realtime.plugins import Plugins
from ara_realtime.static import build_config

SCHEMA = (
    "CREATE TABLE ast_config (id INTEGER PRIMARY KEY, cat_metric INTEGER NOT NULL DEFAULT 0, "
    "var_metric INTEGER NOT NULL DEFAULT 0, commented INTEGER NOT NULL DEFAULT 0, "
    "filename VARCHAR(128) NOT NULL DEFAULT '', category VARCHAR(128) NOT NULL DEFAULT 'default', "
    "var_name VARCHAR(128) NOT NULL DEFAULT '', var_val TEXT NOT NULL DEFAULT '')"
)


def _db(path: Path, rows: list[tuple[str, str, str, str, int, int]]) -> None:
    conn = sqlite3.connect(path)
    conn.execute(SCHEMA)
    conn.executemany(
        "INSERT INTO ast_config (filename, category, var_name, var_val, cat_metric, var_metric) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.close()


@pytest.fixture
def confdir(tmp_path: Path) -> Path:
    _db(
        tmp_path / "cfg.db",
        [
            ("sip.conf", "general", "context", "default", 1, 0),
            ("sip.conf", "general", "#include", "users.conf", 1, 1),
            ("db-only.conf", "x", "y", "z", 0, 0),
            ("loop.conf", "", "#include", "loop.conf", 0, 0),
        ],
    )
    (tmp_path / "res_config_sqlite3.conf").write_text("[cfg]\ndbfile = cfg.db\n")
    (tmp_path / "users.conf").write_text("[alice]\nsecret = s\n#include db-only.conf\n")
    (tmp_path / "plain.conf").write_text("[p]\n#include db-only.conf\nq = 1\n")
    return tmp_path


def _rt(confdir: Path, lines: str, plugins: Plugins) -> Realtime:
    (confdir / "extconfig.conf").write_text("[settings]\n" + lines)
    return Realtime.from_config_dir(confdir, plugins=plugins)


def test_database_file_including_a_disk_file_including_a_database_file(
    confdir: Path, plugins: Plugins
) -> None:
    rt = _rt(
        confdir,
        "sip.conf => sqlite3,cfg,ast_config\ndb-only.conf => sqlite3,cfg,ast_config\n",
        plugins,
    )
    cfg = rt.load_config("sip.conf")
    assert [(c.name, c.items()) for c in cfg] == [
        ("general", [("context", "default")]),
        ("alice", [("secret", "s")]),
        ("x", [("y", "z")]),
    ]
    plain = rt.load_config("plain.conf")  # a disk file whose #include is served by the database
    assert [(c.name, c.items()) for c in plain] == [("p", [("q", "1")]), ("x", [("y", "z")])]


def test_global_serves_every_file(confdir: Path, plugins: Plugins) -> None:
    rt = _rt(confdir, "global => sqlite3,cfg,ast_config\n", plugins)
    assert rt.load_config("db-only.conf").get("x", "y") == "z"
    assert list(rt.load_config("users.conf")) == []  # not read from disk: no rows
    with pytest.raises(ConfigError, match="recursively"):
        rt.load_config("loop.conf")


def test_unmapped_files_come_from_disk_with_file_line_errors(
    confdir: Path, plugins: Plugins
) -> None:
    rt = _rt(confdir, "db-only.conf => sqlite3,cfg,ast_config\n", plugins)
    assert rt.load_config("users.conf").get("alice", "secret") == "s"
    (confdir / "bad.conf").write_text("[ok]\n\nnocategory\n[broken\n")
    with pytest.raises(ConfigError) as info:
        rt.load_config("bad.conf")
    assert str(info.value).startswith(f"{confdir / 'bad.conf'}:4:")
    with pytest.raises(ConfigError, match="missing.conf"):
        rt.load_config("missing.conf")


def test_static_backend_failure(confdir: Path, plugins: Plugins) -> None:
    (confdir / "res_config_sqlite3.conf").write_text("[cfg]\ndbfile = nowhere/cfg.db\n")
    rt = _rt(confdir, "sip.conf => sqlite3,cfg,ast_config\n", plugins)
    with pytest.raises(BackendError):
        rt.load_config("sip.conf")


def test_rows_and_file_give_equal_configs() -> None:
    text = "[general]\na = 1\nb = 2\n[peer]\nsecret = x\n[general]\nc = 3\n"
    rows = [
        StaticRow("general", "a", "1", 3, 0),
        StaticRow("general", "b", "2", 3, 1),
        StaticRow("peer", "secret", "x", 2, 0),
        StaticRow("general", "c", "3", 1, 0),
    ]
    built = build_config(rows, filename="t.conf", include=lambda name: Config())
    assert built == Config.from_string(text)
    assert Config.from_string(built.to_text()) == built


def test_static_fails_over_when_the_primary_is_broken(confdir: Path, plugins: Plugins) -> None:
    (confdir / "bad.db").write_bytes(b"not a database" * 200)
    (confdir / "res_config_sqlite3.conf").write_text(
        "[bad]\ndbfile = bad.db\n[cfg]\ndbfile = cfg.db\n"
    )
    rt = _rt(
        confdir,
        "db-only.conf => sqlite3,bad,ast_config,1\ndb-only.conf => sqlite3,cfg,ast_config,2\n",
        plugins,
    )
    assert rt.load_config("db-only.conf").get("x", "y") == "z"
    assert rt._backends[("sqlite3", "bad")].failures == 1


def test_sqlite3_static_rows_take_the_hooks_shape_from_loose_storage(
    tmp_path: Path, plugins: Plugins
) -> None:
    """SQLite stores any type in any column: the driver still hands over (str, str, str, int,
    int), NULL texts as "" and NULL metrics as 0, numbers in text columns as their text."""
    db = tmp_path / "loose.db"
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE ast_config (id INTEGER PRIMARY KEY, cat_metric, var_metric, "
        "commented INTEGER NOT NULL DEFAULT 0, filename, category, var_name, var_val)"
    )
    conn.executemany(
        "INSERT INTO ast_config (cat_metric, var_metric, filename, category, var_name, var_val) "
        "VALUES (?, ?, 'l.conf', ?, ?, ?)",
        [
            (None, "3", "c", "n", "é".encode()),  # NULL metric, metric as text, value as blob
            (1.7, None, "c", "m", 5),  # a REAL metric, an INTEGER value
            ("2", 0, None, "k", None),  # NULL category and value
        ],
    )
    conn.commit()
    conn.close()
    rt = Realtime(
        {"l.conf": "sqlite3,l,ast_config"}, {"sqlite3": {"l": {"dbfile": str(db)}}}, plugins=plugins
    )
    assert [c.name for c in rt.load_config("l.conf")] == ["", "c", "c"]
    (backend,) = rt._backends.values()
    rows = backend.connection.load_static("ast_config", "l.conf")
    assert rows == [("", "k", "", 2, 0), ("c", "m", "5", 1, 0), ("c", "n", "é", 0, 3)]
    assert all([type(v) for v in r] == [str, str, str, int, int] for r in rows)
    rt.close()


def test_sqlite3_text_that_is_not_utf8_is_a_query_error_without_the_value(
    tmp_path: Path, plugins: Plugins
) -> None:
    db = tmp_path / "bad.db"
    _db(db, [("b.conf", "c", "ok", "1", 0, 0)])
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE peers (name TEXT, secret TEXT)")
    conn.execute("INSERT INTO peers VALUES ('p', CAST(X'FFFE73337372' AS TEXT))")
    conn.execute("UPDATE ast_config SET var_val = CAST(X'FFFE73337372' AS TEXT)")
    conn.commit()
    conn.close()
    rt = Realtime(
        {"peers": "sqlite3,b,peers", "b.conf": "sqlite3,b,ast_config"},
        {"sqlite3": {"b": {"dbfile": str(db)}}},
        plugins=plugins,
    )
    calls: list[Callable[[], object]] = [
        lambda: rt.load("peers", name="p"),
        lambda: rt.load_multi("peers", ("name LIKE", "%")),
        lambda: rt.load_config("b.conf"),
    ]
    for call in calls:
        with pytest.raises(QueryError, match="is not valid UTF-8") as info:
            call()
        assert "s3sr" not in str(info.value)  # the stored bytes never reach the message
    rt.close()


def test_a_loaded_config_read_from_many_threads_at_once_is_complete() -> None:
    """Variables are built from the rows on first read; threads that read together must all
    see every variable (unserialised, every attempt had some thread see a part)."""
    import threading

    rows = [(f"c{i // 200:03d}", f"v{i % 200:03d}", str(i), 0, i % 200) for i in range(20_000)]
    for _ in range(10):
        cats = list(build_config(rows, filename="x.conf", include=lambda name: Config()))
        start = threading.Barrier(8)
        seen: list[list[int]] = []

        def work(
            cats: list[Any] = cats, start: threading.Barrier = start, seen: list[Any] = seen
        ) -> None:
            start.wait()
            seen.append([len(c.variables) for c in cats])

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert len(seen) == 8
        assert all(n == 200 for counts in seen for n in counts)


def test_a_row_without_var_name_opens_an_empty_category() -> None:
    # The static table's way to hold "[general]" with nothing under it; in a run with an
    # include, too (the category still comes before what the include brings).
    text = "[a]\nx = 1\n[empty]\n[b]\n"
    rows = [
        StaticRow("a", "x", "1", 3, 0),
        StaticRow("empty", "", "", 2, 0),
        StaticRow("b", "", "", 1, 0),
    ]
    assert build_config(rows, filename="t.conf", include=lambda n: Config()) == Config.from_string(
        text
    )
    included = Config.from_string("[inc]\ny = 2\n")
    rows = [StaticRow("e", "", "", 1, 0), StaticRow("e", "#include", "inc.conf", 1, 1)]
    built = build_config(rows, filename="t.conf", include=lambda n: included)
    assert built == Config.from_string("[e]\n[inc]\ny = 2\n")
