"""``realtime config import/export``: a .conf file into the static table and back (sqlite3 and
memory here; the corpus on every SQL driver is in test_static_servers.py)."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from ara_realtime import BackendError, Config, ConfigError, Realtime
from ara_realtime.drivers import memory
from ara_realtime.hookspecs import hookimpl
from ara_realtime.migrate.layout import (
    HIDDEN,
    INHERIT,
    TEMPLATE,
    Include,
    Part,
    parts_from_rows,
    parts_key,
    rows_for,
)
from ara_realtime.migrate.static import export_text, import_plan, run_import, text_of, visible
from ara_realtime.plugins import Plugins
from ara_realtime.schema.live import create

SAMPLE = """\
[general]
context = default
allow = ulaw
allow => alaw

[empty]

[phone](!)
type = friend
host = dynamic

[alice](phone)
secret = a
host = 192.0.2.1

[alice]
note = a second category of the same name
[bob](phone,empty)
"""


def _dir(tmp_path: Path, extconfig: str, **files: str) -> Path:
    (tmp_path / "res_config_sqlite3.conf").write_text("[asterisk]\ndbfile = pbx.db\n")
    (tmp_path / "extconfig.conf").write_text("[settings]\n" + extconfig)
    for name, text in files.items():
        (tmp_path / name.replace("_", ".", 1) if "_conf" in name else tmp_path / name).write_text(
            text
        )
    return tmp_path


@pytest.fixture
def make_rt(tmp_path: Path, plugins: Plugins) -> Iterator[object]:
    opened: list[Realtime] = []

    def make(extconfig: str = "global => sqlite3,asterisk,ast_config\n") -> Realtime:
        (tmp_path / "res_config_sqlite3.conf").write_text("[asterisk]\ndbfile = pbx.db\n")
        (tmp_path / "extconfig.conf").write_text("[settings]\n" + extconfig)
        rt = Realtime.from_config_dir(tmp_path, plugins=plugins)
        create(rt, [rt.mappings[0].name])  # every mapping here shares one table
        opened.append(rt)
        return rt

    yield make
    for rt in opened:
        rt.close()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "src" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


# -- the layout ---------------------------------------------------------------------------------


def test_rows_hold_templates_bases_empty_categories_and_includes() -> None:
    cfg = Config.from_string(SAMPLE)
    parts: list[Part] = [
        *cfg.categories(templates=True)[:2],
        Include("more.conf"),
        *cfg.categories(templates=True)[2:],
    ]
    rows = rows_for(parts, "sip.conf")
    as_tuples = [
        (r.category, r.var_name, r.var_val, r.cat_metric, r.var_metric, r.commented) for r in rows
    ]
    assert as_tuples == [
        ("general", "context", "default", 6, 0, 0),
        ("general", "allow", "ulaw", 6, 1, 0),
        ("general", "allow", "alaw", 6, 2, 0),
        ("empty", "", "", 5, 0, 0),  # a category without variables
        ("empty", "#include", "more.conf", 5, 0, 0),  # after the category before it
        ("phone", TEMPLATE, "", 4, -2, HIDDEN),
        ("phone", "type", "friend", 4, 0, HIDDEN),
        ("phone", "host", "dynamic", 4, 1, HIDDEN),
        ("alice", INHERIT, "phone", 3, -1, HIDDEN),
        ("alice", "type", "friend", 3, 0, 0),  # inherited copies, as loading must give them
        ("alice", "host", "dynamic", 3, 1, 0),
        ("alice", "secret", "a", 3, 2, 0),
        ("alice", "host", "192.0.2.1", 3, 3, 0),
        ("alice", "note", "a second category of the same name", 2, 0, 0),
        ("bob", INHERIT, "phone,empty", 1, -1, HIDDEN),
        ("bob", "type", "friend", 1, 0, 0),
        ("bob", "host", "dynamic", 1, 1, 0),
    ]
    restored = parts_from_rows([r.values("sip.conf") for r in rows])
    assert parts_key(restored.parts) == parts_key(parts)
    assert restored.skipped == 0
    text = text_of(restored.parts)
    assert "[phone](!)\n" in text and "[alice](phone)\nsecret = a\n" in text
    assert '#include "more.conf"\n' in text
    # a base beyond an #include line ([empty]) is not there for the header: written in full
    assert "[bob]\ntype = friend\nhost = dynamic\n" in text
    assert "[bob](phone,empty)\n" in text_of(cfg.categories(templates=True))
    assert Config.from_string(text_of(cfg.categories(templates=True))) == cfg


def test_an_include_before_any_category_has_a_run_of_its_own() -> None:
    parts: list[Part] = [Include("first.conf"), *Config.from_string("[a]\nx = 1\n").categories()]
    rows = rows_for(parts, "f.conf")
    assert [(r.category, r.var_name, r.var_val, r.cat_metric) for r in rows] == [
        ("", "#include", "first.conf", 2),
        ("a", "x", "1", 1),
    ]
    assert parts_key(parts_from_rows([r.values("f.conf") for r in rows]).parts) == parts_key(parts)


def test_names_loaders_would_take_for_directives_are_refused() -> None:
    cfg = Config.from_string("[a]\n\\#include = x\n")
    with pytest.raises(ValueError, match=r"\[a\]: a variable named '#include' cannot be stored"):
        rows_for(cfg.categories(), "f.conf")


def test_rows_someone_else_wrote_come_back_as_the_loader_reads_them() -> None:
    # Asterisk-style rows: every category at metric 0, a commented line, an include first.
    rows = [
        {
            "category": "general",
            "var_name": "a",
            "var_val": "1",
            "cat_metric": "0",
            "var_metric": "0",
        },
        {
            "category": "general",
            "var_name": "b",
            "var_val": "2",
            "cat_metric": "0",
            "var_metric": "1",
            "commented": "1",
        },
        {"category": "zeta", "var_name": "z", "var_val": "9", "cat_metric": "0", "var_metric": "0"},
        {"category": "alpha", "var_name": "y", "cat_metric": "0", "var_metric": "0"},
    ]
    rows.append({"category": "zeta", "var_name": "w", "cat_metric": "0", "commented": "TRUE"})
    rows.append({"category": "zeta", "var_name": "v", "var_val": "8", "commented": "FALSE"})
    restored = parts_from_rows(rows)
    assert restored.skipped == 2  # Asterisk's LDAP entries say TRUE and FALSE
    assert parts_key(restored.parts) == [  # the contract's order: metric, then name
        ("alpha", False, [("y", "")]),
        ("general", False, [("a", "1")]),
        ("zeta", False, [("v", "8"), ("z", "9")]),
    ]


# -- import and export through a Realtime ---------------------------------------------------


def test_import_then_load_and_export(make_rt, tmp_path: Path) -> None:
    rt = make_rt()
    source = _write(tmp_path, "sip.conf", SAMPLE)
    plan = import_plan(rt, source)
    assert [f.name for f in plan.files] == ["sip.conf"] and plan.row_count == 16
    assert rt.load_multi("global", ("filename LIKE", "%")) == []  # planning writes nothing
    seen: list[int] = []
    run_import(rt, plan, progress=seen.append)
    assert sum(seen) == 16
    loaded = rt.load_config("sip.conf")
    original = Config.from_file(source)
    assert visible(loaded) == visible(original)
    assert [c.name for c in loaded.categories(templates=True)] == [
        "general",
        "empty",
        "alice",
        "alice",
        "bob",
    ]
    text, restored = export_text(rt, "sip.conf")
    assert Config.from_string(text) == original  # templates and all
    assert restored.skipped == 0
    # only the new rows remain: no staging or old rows
    assert {r["filename"] for r in rt.load_multi("global", ("filename LIKE", "%"))} == {"sip.conf"}


def test_existing_rows_need_replace(make_rt, tmp_path: Path) -> None:
    rt = make_rt()
    run_import(rt, import_plan(rt, _write(tmp_path, "q.conf", "[a]\nx = 1\n")))
    plan = import_plan(rt, _write(tmp_path, "q.conf", "[b]\ny = 2\n"))
    with pytest.raises(
        ConfigError, match="q.conf already has 1 rows .* replace them with --replace"
    ):
        run_import(rt, plan)
    run_import(rt, plan, replace=True)
    assert visible(rt.load_config("q.conf")) == [("b", [("y", "2")])]
    assert len(rt.load_multi("global", ("filename LIKE", "%"))) == 1


def test_includes_kept_as_rows_or_followed(make_rt, tmp_path: Path) -> None:
    rt = make_rt(
        "sip.conf => sqlite3,asterisk,ast_config\n"
        "peers.conf => sqlite3,asterisk,ast_config\n"
        "sip2.conf => sqlite3,asterisk,ast_config\n"
    )
    _write(tmp_path, "peers.conf", "[tmpl](!)\nhost = dynamic\n[carol](tmpl)\nsecret = c\n")
    _write(tmp_path, "local.conf", "[dave]\nsecret = d\n")
    source = _write(
        tmp_path,
        "sip.conf",
        "[general]\nbindport = 5060\n#include peers.conf\n#include local.conf\n"
        "[erin](tmpl)\nsecret = e\n",
    )
    # local.conf stays a file: the loader reads it from the configuration directory
    (tmp_path / "local.conf").write_text("[dave]\nsecret = d\n")
    plan = import_plan(rt, source)
    assert [f.name for f in plan.files] == ["peers.conf", "sip.conf"]
    assert plan.notes == ["local.conf is included from sip.conf but not mapped: it stays a file"]
    run_import(rt, plan)
    includes = rt.load_multi(
        "global" if rt.is_mapped("global") else "sip.conf", ("var_name", "#include")
    )
    assert [r["var_val"] for r in includes] == ["peers.conf", "local.conf"]
    assert visible(rt.load_config("sip.conf")) == visible(Config.from_file(source))
    text, _ = export_text(rt, "sip.conf")
    assert '#include "peers.conf"\n' in text
    assert "[erin]\nhost = dynamic\nsecret = e\n" in text  # its base is in another file
    followed = import_plan(rt, source, name="sip2.conf", follow_includes=True)
    assert [f.name for f in followed.files] == ["sip2.conf"]
    run_import(rt, followed)
    assert rt.load_multi("sip2.conf", ("filename", "sip2.conf"), ("var_name", "#include")) == []
    loaded = rt.load_config("sip2.conf")
    assert visible(loaded) == visible(Config.from_file(source))
    assert Config.from_string(export_text(rt, "sip2.conf")[0]) == Config.from_file(source)


def test_an_included_file_continuing_a_category_needs_follow(make_rt, tmp_path: Path) -> None:
    rt = make_rt()
    _write(tmp_path, "more.conf", "extra = 1\n[next]\ny = 2\n")
    source = _write(tmp_path, "x.conf", "[a]\nx = 1\n#include more.conf\n")
    with pytest.raises(
        ConfigError, match=r"more.conf:1: no category .* import x.conf with --follow"
    ):
        import_plan(rt, source)
    # an included file that reads differently alone: "()" inherits from the first category
    # of the whole load (the including file's [a]), or of the included file alone ([t])
    _write(tmp_path, "odd.conf", "[t]\nq = 1\n[c]()\n")
    odd = _write(tmp_path, "y.conf", "[a]\nx = 1\n#include odd.conf\n")
    with pytest.raises(ConfigError, match="y.conf: as rows, .* import it with --follow-includes"):
        import_plan(rt, odd)
    plan = import_plan(rt, source, follow_includes=True)
    run_import(rt, plan)
    assert visible(rt.load_config("x.conf")) == [
        ("a", [("x", "1"), ("extra", "1")]),
        ("next", [("y", "2")]),
    ]


def test_patterns_and_unmapped_files(make_rt, tmp_path: Path) -> None:
    rt = make_rt("extensions.conf => sqlite3,asterisk,ast_config\n")
    source = _write(tmp_path, "extensions.conf", "[a]\n#include conf.d/*.conf\n")
    (source.parent / "conf.d").mkdir()
    (source.parent / "conf.d" / "one.conf").write_text("[one]\n")
    with pytest.raises(ConfigError, match=r"#include conf.d/\*.conf: a pattern cannot be kept"):
        import_plan(rt, source)
    other = _write(tmp_path, "sip.conf", "[a]\n")
    with pytest.raises(ConfigError, match="sip.conf is not mapped in extconfig.conf"):
        import_plan(rt, other)
    missing = _write(tmp_path, "extensions.conf", "[a]\n#include nosuch.conf\n")
    with pytest.raises(ConfigError, match="nosuch.conf"):
        import_plan(rt, missing)


class _FailingWrites:
    """Fault injection: the storage fails once, at the Nth store or at the first update that
    sets a given file name."""

    def __init__(self, store_at: int | None = None, update_to: str | None = None) -> None:
        self.stores = 0
        self.store_at = store_at
        self.update_to = update_to

    @hookimpl(wrapper=True)
    def ara_store(self, family: str) -> Generator[None, object, object]:
        self.stores += 1
        if self.stores == self.store_at:
            raise BackendError("injected: the server went away")
        return (yield)

    @hookimpl(wrapper=True)
    def ara_update(self, values: tuple[tuple[str, str], ...]) -> Generator[None, object, object]:
        if self.update_to is not None and ("filename", self.update_to) in values:
            self.update_to = None
            raise BackendError("injected: the server went away")
        return (yield)


@pytest.mark.parametrize("fault", ["store", "switch"])
def test_a_failed_import_leaves_the_table_as_it_was(
    make_rt, tmp_path: Path, plugins: Plugins, fault: str
) -> None:
    rt = make_rt()
    run_import(rt, import_plan(rt, _write(tmp_path, "q.conf", "[old]\nx = 1\n")))
    before = sorted(
        map(sorted, (r.items() for r in rt.load_multi("global", ("filename LIKE", "%"))))
    )
    plan = import_plan(rt, _write(tmp_path, "q.conf", "[new]\ny = 2\nz = 3\n"))
    faults = _FailingWrites(store_at=2) if fault == "store" else _FailingWrites(update_to="q.conf")
    name = plugins.add_plugin(faults, name="faults")
    with pytest.raises(
        BackendError, match="injected.*; nothing was imported: every file's rows are as they were$"
    ):
        run_import(rt, plan, replace=True)
    plugins.remove_plugin(name)
    after = sorted(
        map(sorted, (r.items() for r in rt.load_multi("global", ("filename LIKE", "%"))))
    )
    assert after == before
    assert visible(rt.load_config("q.conf")) == [("old", [("x", "1")])]


def test_memory_driver(tmp_path: Path, plugins: Plugins) -> None:
    memory.create_table(
        "static-mem",
        "ast_config",
        [
            "id",
            "filename",
            "category",
            "var_name",
            "var_val",
            "cat_metric",
            "var_metric",
            "commented",
        ],
    )
    rt = Realtime({"global": "memory,static-mem,ast_config"}, plugins=plugins)
    try:
        source = _write(tmp_path, "sip.conf", SAMPLE)
        run_import(rt, import_plan(rt, source))
        assert visible(rt.load_config("sip.conf")) == visible(Config.from_file(source))
        assert Config.from_string(export_text(rt, "sip.conf")[0]) == Config.from_file(source)
    finally:
        rt.close()
        memory.reset("static-mem")


def test_what_could_not_be_undone_is_named(make_rt, tmp_path: Path, plugins: Plugins) -> None:
    rt = make_rt()
    run_import(rt, import_plan(rt, _write(tmp_path, "q.conf", "[old]\nx = 1\n")))
    plan = import_plan(rt, _write(tmp_path, "q.conf", "[new]\ny = 2\n"))

    class Down(_FailingWrites):
        @hookimpl(wrapper=True)
        def ara_update(
            self, values: tuple[tuple[str, str], ...]
        ) -> Generator[None, object, object]:
            if ("filename", "q.conf") in values:  # every time: the undo cannot rename back
                raise BackendError("injected: down")
            return (yield)

    plugins.add_plugin(Down(), name="down")
    with pytest.raises(BackendError) as info:
        run_import(rt, plan, replace=True)
    message = str(info.value)
    assert "injected: down; undoing the import failed for: rename 'q.conf~ara-old-" in message
    assert "' back to 'q.conf' (update on 'global' failed" in message
    names = {r["filename"] for r in rt.load_multi("global", ("filename LIKE", "%"))}
    assert len(names) == 1 and names.pop().startswith("q.conf~ara-old-")  # as the error says


def test_an_empty_file_is_kept(make_rt, tmp_path: Path) -> None:
    rt = make_rt()
    run_import(rt, import_plan(rt, _write(tmp_path, "confbridge.conf", "; nothing yet\n")))
    assert rt.load_config("confbridge.conf") == Config()
    assert export_text(rt, "confbridge.conf")[0] == ""
    with pytest.raises(
        ConfigError, match="nosuch.conf has no rows in the table of mapping 'global'"
    ):
        export_text(rt, "nosuch.conf")
