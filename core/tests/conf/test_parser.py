"""The .conf reader, rule by rule (research notes section 4, corrected by Appendix D)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from ara_realtime.conf import Category, Config, Variable
from ara_realtime.errors import ConfigError

LOGGER = "ara_realtime.conf"


def parse(text: str, **kwargs: Any) -> Config:
    return Config.from_string(text, **kwargs)


def items(cfg: Config, name: str) -> list[tuple[str, str]]:
    return cfg[name].items()


def shape(cfg: Config) -> list[tuple[str, bool, list[tuple[str, str]]]]:
    return [(c.name, c.template, c.items()) for c in cfg.categories(templates=True)]


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load(path: Path, **kwargs: Any) -> Config:
    return Config.from_file(path, **kwargs)


def warnings_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


# -- basic lines ---------------------------------------------------------------------------------


def test_variables_are_stripped_and_kept_verbatim() -> None:
    cfg = parse('[general]\n  bindport =  5060  \nq = "a b" \na=b=c\nx=\\n\\\\t\ne =\n')
    assert items(cfg, "general") == [
        ("bindport", "5060"),
        ("q", '"a b"'),
        ("a", "b=c"),
        ("x", "\\n\\\\t"),
        ("e", ""),
    ]


def test_duplicates_are_kept_and_lookups_pick_last_or_first() -> None:
    cfg = parse("[a]\nallow=ulaw\nALLOW=alaw\n[b]\nx=1\n[A]\nx=2\n")
    cat = cfg["a"]
    assert cat.get("allow") == "alaw"
    assert cat.get_first("Allow") == "ulaw"
    assert cat.get_all("allow") == ["ulaw", "alaw"]
    assert cat.get("missing", "d") == "d"
    assert "ALLOW" in cat
    assert "nope" not in cat
    assert len(cat) == 2
    assert [v.name for v in cat] == ["allow", "ALLOW"]
    # Duplicate categories stay separate; look-up returns the first one.
    assert [c.name for c in cfg] == ["a", "b", "A"]
    assert cfg["A"] is cat
    assert cfg.get("a", "x") is None
    assert cfg.get("A", "allow") == "alaw"
    assert cfg.get_first("a", "allow") == "ulaw"
    assert cfg.get("zzz", "x", "dflt") == "dflt"
    assert "B" in cfg
    assert "zzz" not in cfg
    assert 5 not in cfg
    with pytest.raises(KeyError):
        cfg["zzz"]


def test_case_folding_is_ascii_only_like_strcasecmp() -> None:
    cfg = parse("[É]\nÄ=1\n")
    assert "É" in cfg
    assert "é" not in cfg
    assert cfg["É"].get("ä") is None
    assert cfg["É"].get("Ä") == "1"


def test_lines_without_equals_or_name_are_warned_and_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, LOGGER)
    cfg = parse("[a]\njunk\n= 5\nok=1\n", filename="f.conf")
    assert items(cfg, "a") == [("ok", "1")]
    assert "f.conf:2:" in warnings_text(caplog)
    assert "f.conf:3:" in warnings_text(caplog)


def test_object_arrow_sets_flag_only() -> None:
    cfg = parse("[a]\nexten => 1,1,NoOp\nplain = x\nb=>\n")
    assert items(cfg, "a") == [("exten", "1,1,NoOp"), ("plain", "x"), ("b", "")]
    assert [v.object for v in cfg["a"]] == [True, False, True]


def test_file_and_line_are_recorded(tmp_path: Path) -> None:
    path = write(tmp_path / "x.conf", "\n[a]\n; c\nk=v\n")
    cfg = load(path)
    cat = cfg["a"]
    assert (cat.file, cat.lineno) == (str(path), 2)
    var = cat.variables[0]
    assert (var.file, var.lineno, var.inherited, var.object) == (str(path), 4, False, False)


def test_blank_and_comment_only_lines_are_ignored() -> None:
    cfg = parse("\n   \n\t\n; comment\n[a] ; c\n  ; c\nk = v ; trailing\n")
    assert shape(cfg) == [("a", False, [("k", "v")])]


# -- category headers ----------------------------------------------------------------------------


def test_category_names_are_not_trimmed_and_may_be_odd() -> None:
    cfg = parse("[ foo ]\n[a[b]\n[]\n[x] junk after\n[y]z(!)\n")
    names = [c.name for c in cfg.categories(templates=True)]
    assert names == [" foo ", "a[b", "", "x", "y"]
    assert not any(c.template for c in cfg.categories(templates=True))


def test_templates_are_hidden_from_lookups() -> None:
    cfg = parse("[t](!)\nk=1\n[t]\nk=2\n[only](!)\n")
    assert [c.name for c in cfg] == ["t"]
    assert [c.name for c in cfg.categories(templates=True)] == ["t", "t", "only"]
    assert cfg["t"].get("k") == "2"
    assert "only" not in cfg
    assert cfg.get("only", "k") is None
    assert [d["template"] for d in cfg.to_dict()] == [True, False, True]


def test_template_option_needs_the_paren_right_after_bracket() -> None:
    cfg = parse("[foo] (!)\n")
    (cat,) = cfg.categories(templates=True)
    assert (cat.name, cat.template) == ("foo", False)


def test_inheritance_copies_base_by_base_in_option_order() -> None:
    cfg = parse(
        "[t1](!)\na=1\nb=2\n[t2](!)\nc=3\n[child](t2,t1)\nb=own\n",
    )
    child = cfg["child"]
    assert child.items() == [("c", "3"), ("a", "1"), ("b", "2"), ("b", "own")]
    assert [v.inherited for v in child] == [True, True, True, False]
    assert child.get("b") == "own"
    assert child.get_first("b") == "2"
    assert child.bases == ["t2", "t1"]
    assert cfg.to_dict()[2]["inherits"] == ["t2", "t1"]


def test_inheritance_copies_at_header_time_and_chains() -> None:
    text = "[base]\nx=1\n[mid](base)\ny=2\n[leaf](mid)\n[base](+)\nlate=1\n"
    cfg = parse(text)
    assert items(cfg, "mid") == [("x", "1"), ("y", "2")]
    assert items(cfg, "leaf") == [("x", "1"), ("y", "2")]
    assert items(cfg, "base") == [("x", "1"), ("late", "1")]


def test_inherits_reports_the_base_as_its_header_spells_it() -> None:
    cfg = parse("[Tmpl](!)\nk=v\n[c](tmpl)\n")
    child = cfg["c"]
    assert child.bases == ["tmpl"]
    assert child.inherits == ["Tmpl"]
    assert cfg.to_dict()[1] == {
        "name": "c",
        "template": False,
        "inherits": ["Tmpl"],
        "items": [["k", "v"]],
    }


def test_inheritance_takes_first_category_of_that_name_template_or_not() -> None:
    cfg = parse("[b]\nv=first\n[b](!)\nv=second\n[c](b)\n")
    assert items(cfg, "c") == [("v", "first")]
    cfg = parse("[b](!)\nv=tmpl\n[b]\nv=plain\n[c](B)\n")
    assert items(cfg, "c") == [("v", "tmpl")]


def test_options_are_split_without_trimming(tmp_path: Path) -> None:
    path = write(tmp_path / "o.conf", "[t1]\na=1\n[t2]\nb=2\n[c](t1, t2)\n")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.line == 5
    assert "' t2'" in str(info.value)
    cfg = parse("[t1]\na=1\n[ t2]\nb=2\n[c](t1, t2)\n")
    assert items(cfg, "c") == [("a", "1"), ("b", "2")]


def test_empty_option_inherits_from_first_category_of_the_file() -> None:
    cfg = parse("[first](!)\nf=1\n[other]\no=1\n[c]()\n[d](other,)\n")
    assert items(cfg, "c") == [("f", "1")]
    assert cfg["c"].inherits == ["first"]
    assert items(cfg, "d") == [("o", "1"), ("f", "1")]


def test_plus_appends_to_first_non_template_category() -> None:
    cfg = parse("[g](!)\nt=1\n[G]\na=1\n[g]\nb=1\n[g](+)\nc=1\n")
    assert shape(cfg) == [
        ("g", True, [("t", "1")]),
        ("G", False, [("a", "1"), ("c", "1")]),
        ("g", False, [("b", "1")]),
    ]


def test_plus_with_filters_picks_the_matching_category() -> None:
    text = (
        "[peer]\ntype=friend\nhost=a\n"
        "[peer]\ntype=friend\nhost=b\n"
        "[peer]\ntype=user\nhost=b\n"
        "[peer](+type=user&host=^b$)\nx=3\n"
        "[peer](+host=b)\ny=2\n"
    )
    cfg = parse(text)
    cats = cfg.categories()
    assert cats[0].items() == [("type", "friend"), ("host", "a")]
    assert cats[1].items() == [("type", "friend"), ("host", "b"), ("y", "2")]
    assert cats[2].items() == [("type", "user"), ("host", "b"), ("x", "3")]


def test_plus_filter_regexes_search_names_and_values() -> None:
    cfg = parse("[p]\nhost=dynamic\n[p]\nport=5060\n[p](+^po.t$=^[0-9]+$)\nz=1\n")
    assert cfg.categories()[1].items() == [("port", "5060"), ("z", "1")]


def test_plus_filter_posix_class_and_failures(tmp_path: Path) -> None:
    cfg = parse("[p]\nk=abc\n[p]\nk=a1\n[p](+k=[[:digit:]])\nz=1\n")
    assert cfg.categories()[1].items() == [("k", "a1"), ("z", "1")]
    for header in ("[p](+k=zzz)", "[p](+k)", "[p](+k=(unclosed)", "[p](+k=a&)"):
        path = write(tmp_path / "f.conf", f"[p]\nk=abc\n{header}\n")
        with pytest.raises(ConfigError) as info:
            load(path)
        assert f"{path}:3:" in str(info.value)


def test_plus_without_target_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "p.conf", "[t](!)\nk=1\n[t](+)\n")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert str(info.value).startswith(f"{path}:3: ")
    assert (info.value.file, info.value.line) == (str(path), 3)


def test_plus_with_template_option_makes_existing_a_template() -> None:
    for header in ("[a](+,!)", "[a](!,+)"):
        cfg = parse(f"[a]\nx=1\n{header}\ny=2\n")
        assert shape(cfg) == [("a", True, [("x", "1"), ("y", "2")])]
        assert "a" not in cfg


def test_base_before_plus_moves_copies_into_existing_category() -> None:
    cfg = parse("[t](!)\nk=1\n[a]\nx=1\n[a](t,+)\ny=2\n[b]\n[b](+,t)\n")
    a = cfg["a"]
    assert a.items() == [("x", "1"), ("k", "1"), ("y", "2")]
    assert [v.inherited for v in a] == [False, True, False]
    assert a.inherits == []  # Asterisk drops the new category's template list
    b = cfg["b"]
    assert b.items() == [("k", "1")]
    assert b.inherits == ["t"]


def test_plus_then_self_as_base_copies_once() -> None:
    cfg = parse("[a]\nx=1\ny=2\n[a](+,a)\nz=3\n")
    assert items(cfg, "a") == [("x", "1"), ("y", "2"), ("x", "1"), ("y", "2"), ("z", "3")]


# -- += ------------------------------------------------------------------------------------------


def test_plus_equals_appends_raw_text() -> None:
    cfg = parse("[c]\nb=1\nb+=2\na = x\na += b\nn += new\nm=\nm+=  v  \n")
    assert items(cfg, "c") == [("b", "12"), ("a", "x b"), ("n", "new"), ("m", "v")]


def test_plus_equals_needs_exact_name_predecessor() -> None:
    cfg = parse("[c]\nB=1\nb+=2\n")
    assert items(cfg, "c") == [("B", "1"), ("b", "2")]


def test_plus_equals_replaces_last_case_insensitive_match_of_old_value() -> None:
    cfg = parse("[c]\nb=1\nB=1\nb+=2\n")
    assert items(cfg, "c") == [("b", "1"), ("b", "12")]
    cfg = parse("[c]\nb=1\nB=x\nb+=2\n")
    assert items(cfg, "c") == [("b", "12"), ("B", "x")]


def test_plus_equals_arrow_is_not_an_object() -> None:
    cfg = parse("[c]\na=1\na+=>x\nb +=> y\n")
    assert items(cfg, "c") == [("a", "1>x"), ("b", "> y")]
    assert [v.object for v in cfg["c"]] == [False, False]


def test_plus_equals_keeps_arrow_of_updated_variable() -> None:
    cfg = parse("[c]\nexten => 1\nexten +=,2\n")
    (var,) = cfg["c"].variables
    assert (var.name, var.value, var.object) == ("exten", "1,2", True)


def test_plus_equals_on_inherited_value() -> None:
    cfg = parse("[t](!)\nallow=ulaw\n[c](t)\nallow+=,alaw\n")
    (var,) = cfg["c"].variables
    assert (var.value, var.inherited) == ("ulaw,alaw", False)
    assert items(cfg, "c") == [("allow", "ulaw,alaw")]
    assert cfg.categories(templates=True)[0].items() == [("allow", "ulaw")]


# -- comments ------------------------------------------------------------------------------------


def test_semicolon_escape_and_line_comments() -> None:
    cfg = parse("[c]\na = x\\;y ; comment\nb = \\;\\;\nc = 1;---2\nd = p\\\\;q\n")
    assert items(cfg, "c") == [("a", "x;y"), ("b", ";;"), ("c", "1"), ("d", "p\\;q")]


def test_block_comments_span_lines_and_join_text() -> None:
    text = "[c]\na = 1 ;-- gone --; 2\nb = 3 ;-- open\nnot = here\nstill --; d = 4\nc = 5\n"
    cfg = parse(text)
    assert items(cfg, "c") == [("a", "1  2"), ("b", "3"), ("d", "4"), ("c", "5")]


def test_block_comments_nest() -> None:
    text = "[c]\n;-- outer\n;-- inner --;\nhidden = 1\n--;\nshown = 2\n"
    assert items(parse(text), "c") == [("shown", "2")]


def test_dash_dash_semicolon_dash_dash_inside_block_opens_deeper() -> None:
    text = "[c]\n;-- open\nx --;-- deeper\nhidden = 1\n--;\nstill = hidden\n--;\nshown = 2\n"
    assert items(parse(text), "c") == [("shown", "2")]


def test_triple_dash_is_a_line_comment() -> None:
    assert items(parse("[c]\na = 1 ;--- not a block\nb = 2\n"), "c") == [("a", "1"), ("b", "2")]


def test_close_marker_first_quirk_comments_out_following_lines() -> None:
    text = "[c]\nx = a--; note ; more\ny = 2\n;-- back to zero\nz = 3\n"
    assert items(parse(text), "c") == [("x", "a--; note ; more"), ("z", "3")]


def test_unterminated_block_comment_only_warns(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, LOGGER)
    cfg = parse("[c]\na=1\n;-- open\nb=2\n", filename="u.conf")
    assert items(cfg, "c") == [("a", "1")]
    assert "u.conf" in warnings_text(caplog)
    assert "line 3" in warnings_text(caplog)


def test_block_comment_nesting_limit(tmp_path: Path) -> None:
    path = write(tmp_path / "deep.conf", "[c]\n" + ";--\n" * 129)
    with pytest.raises(ConfigError) as info:
        load(path)
    assert f"{path}:130:" in str(info.value)


# -- lines, bytes and encodings ------------------------------------------------------------------


def test_bom_removed_on_line_one_only(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.conf", b"\xef\xbb\xbf[c]\n\xef\xbb\xbfx=1\n")
    cfg = load(path)
    assert items(cfg, "c") == [("\ufeffx", "1")]
    assert items(parse("\ufeff[c]\n"), "c") == []


def test_crlf_and_cr_only_files(tmp_path: Path) -> None:
    cfg = load(write(tmp_path / "crlf.conf", b"[c]\r\nx = 1\r\ny=2 ; c\r\n"))
    assert items(cfg, "c") == [("x", "1"), ("y", "2")]
    cfg = load(write(tmp_path / "cr.conf", b"[c]\rx = 1\r"))
    assert shape(cfg) == [("c", False, [])]


def test_nul_ends_the_line_text(tmp_path: Path) -> None:
    cfg = load(write(tmp_path / "nul.conf", b"[c]\nx = ab\x00cd ;\ny = 2\n\x00z=3\n"))
    assert items(cfg, "c") == [("x", "ab"), ("y", "2")]


def test_latin1_fallback_for_whole_file(tmp_path: Path) -> None:
    cfg = load(write(tmp_path / "l1.conf", b"[c]\nname = Andr\xe9\n"))
    assert items(cfg, "c") == [("name", "André")]
    cfg = load(write(tmp_path / "u8.conf", "[c]\nname = André\n".encode()))
    assert items(cfg, "c") == [("name", "André")]
    mixed = "[c]\na = é\n".encode() + b"b = \xe9\n"
    cfg = load(write(tmp_path / "mixed.conf", mixed))
    assert items(cfg, "c") == [("a", "Ã©"), ("b", "é")]


def test_latin1_file_with_bom(tmp_path: Path) -> None:
    cfg = load(write(tmp_path / "l1bom.conf", b"\xef\xbb\xbf[c]\nx = \xe9\n"))
    assert shape(cfg) == [("c", False, [("x", "é")])]


def test_leading_backslash_in_names() -> None:
    text = "[c]\n\\[x = 1\n\\#y = 2\n\\=z = 3\n\\;w = 4\n\\\\v = 5\n\\==6\n\\+=7\n"
    assert items(parse(text), "c") == [
        ("[x", "1"),
        ("#y", "2"),
        ("=z", "3"),
        (";w", "4"),
        ("\\v", "5"),
        ("=", "6"),
        ("+", "7"),
    ]


@pytest.mark.parametrize("line", ["\\ x = 1", "\\\tx=1", "\\"])
def test_backslash_then_blank_is_invalid(tmp_path: Path, line: str) -> None:
    path = write(tmp_path / "esc.conf", f"[c]\n{line}\n")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert str(info.value).startswith(f"{path}:2: ")


# -- fatal errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("x = 1\n", 1),
        ("[c]\nk=v\n[broken\n", 3),
        ("[c](!\n", 1),
        ("[c]\n[d](nope)\n", 2),
        ("[c]\n[d](+)\n", 2),
        ("[c]\n#include missing.conf\n", 2),
        ("[c]\n\\ a = 1\n", 2),
    ],
    ids=["no-category", "no-bracket", "no-paren", "unknown-base", "plus-none", "include", "esc"],
)
def test_fatal_errors_name_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    path = write(tmp_path / "bad.conf", text)
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.file == str(path)
    assert info.value.line == line
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_from_string_errors_use_given_filename() -> None:
    with pytest.raises(ConfigError, match=r"^mem\.conf:2: "):
        parse("[c]\n[d](nope)\n", filename="mem.conf")
    with pytest.raises(ConfigError, match=r"^<string>:1: "):
        parse("k=v\n")


def test_unreadable_top_level_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.conf"
    with pytest.raises(ConfigError) as info:
        load(missing)
    assert (info.value.file, info.value.line) == (str(missing), None)
    assert str(info.value).startswith(f"{missing}: ")
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    assert info.value.line is None


def test_relative_path_uses_config_dir_else_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "etc" / "a.conf", "[from_dir]\n")
    write(tmp_path / "cwd" / "a.conf", "[from_cwd]\n")
    cfg = Config.from_file("a.conf", config_dir=tmp_path / "etc")
    assert [c.name for c in cfg] == ["from_dir"]
    monkeypatch.chdir(tmp_path / "cwd")
    assert [c.name for c in Config.from_file("a.conf")] == ["from_cwd"]
    assert [c.name for c in Config.from_file(Path("a.conf"))] == ["from_cwd"]


# -- #include ------------------------------------------------------------------------------------


def test_include_continues_current_category(tmp_path: Path) -> None:
    write(tmp_path / "vars.conf", "z = 3\n")
    main = write(tmp_path / "main.conf", "[a]\nx = 1\n#include vars.conf\ny = 2\n")
    assert items(load(main), "a") == [("x", "1"), ("z", "3"), ("y", "2")]


def test_includer_continues_in_its_own_category(tmp_path: Path) -> None:
    write(tmp_path / "cats.conf", "[b]\nw = 1\n")
    main = write(tmp_path / "main.conf", "[a]\nx = 1\n#include cats.conf\ny = 2\n")
    cfg = load(main)
    assert shape(cfg) == [("a", False, [("x", "1"), ("y", "2")]), ("b", False, [("w", "1")])]


def test_included_file_starts_in_configs_current_category(tmp_path: Path) -> None:
    write(tmp_path / "one.conf", "[b]\n")
    write(tmp_path / "two.conf", "from_two = 1\n")
    write(tmp_path / "three.conf", "from_three = 1\n")
    main = write(
        tmp_path / "main.conf",
        "[a]\n#include one.conf\n#include two.conf\n[a](+)\n#include three.conf\nown = 1\n",
    )
    cfg = load(main)
    assert shape(cfg) == [
        ("a", False, [("from_three", "1"), ("own", "1")]),
        ("b", False, [("from_two", "1")]),
    ]


def test_top_level_include_gives_no_open_category(tmp_path: Path) -> None:
    write(tmp_path / "one.conf", "[b]\n")
    main = write(tmp_path / "main.conf", "#include one.conf\nx = 1\n")
    with pytest.raises(ConfigError) as info:
        load(main)
    assert (info.value.file, info.value.line) == (str(main), 2)


def test_include_argument_forms(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path / "inc.conf", "k = v\n")
    for line in ('#include "inc.conf"', "#include <inc.conf>", "#INCLUDE inc.conf"):
        main = write(tmp_path / "main.conf", f"[c]\n{line}\n")
        assert items(load(main), "c") == [("k", "v")], line
    caplog.set_level(logging.WARNING, LOGGER)
    main = write(tmp_path / "main.conf", '[c]\n#include"inc.conf"\n#include\n#bogus x\n')
    assert items(load(main), "c") == []
    assert f"{main}:2:" in warnings_text(caplog)
    assert f"{main}:3:" in warnings_text(caplog)
    assert f"{main}:4:" in warnings_text(caplog)


def test_include_is_relative_to_config_dir_not_includer(tmp_path: Path) -> None:
    write(tmp_path / "other.conf", "top = 1\n")
    write(tmp_path / "sub" / "other.conf", "sub = 1\n")
    write(tmp_path / "sub" / "mid.conf", "#include other.conf\n")
    main = write(tmp_path / "main.conf", "[c]\n#include sub/mid.conf\n")
    assert items(load(main), "c") == [("top", "1")]
    etc = tmp_path / "etc"
    write(etc / "sub" / "mid.conf", "#include other.conf\n")
    write(etc / "other.conf", "etc = 1\n")
    assert items(load(main, config_dir=etc), "c") == [("etc", "1")]


def test_include_absolute_path_and_from_string_base(tmp_path: Path) -> None:
    inc = write(tmp_path / "abs.conf", "k = 1\n")
    assert items(parse(f"[c]\n#include {inc}\n"), "c") == [("k", "1")]
    assert items(parse("[c]\n#include abs.conf\n", config_dir=tmp_path), "c") == [("k", "1")]


def test_tryinclude_missing_is_fine(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "[c]\n#tryinclude nope.conf\nk = 1\n")
    assert items(load(main), "c") == [("k", "1")]


def test_error_inside_included_file_ends_that_file_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, LOGGER)
    inc = write(tmp_path / "inc.conf", "[b]\nx = 1\n#include nope.conf\ny = 2\n")
    bad = write(tmp_path / "bad.conf", "[d]\nx = 1\n[broken\nz = 1\n")
    main = write(tmp_path / "main.conf", "[a]\n#include inc.conf\n#include bad.conf\nafter = 1\n")
    cfg = load(main)
    assert shape(cfg) == [
        ("a", False, [("after", "1")]),
        ("b", False, [("x", "1")]),
        ("d", False, [("x", "1")]),
    ]
    logged = warnings_text(caplog)
    assert f"{inc}:3:" in logged
    assert f"{bad}:3:" in logged


def test_included_variable_without_category_ends_that_file_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, LOGGER)
    inc = write(tmp_path / "inc.conf", "orphan = 1\n[never]\n")
    main = write(tmp_path / "main.conf", "#include inc.conf\n[a]\nk = 1\n")
    assert shape(load(main)) == [("a", False, [("k", "1")])]
    assert f"{inc}:1:" in warnings_text(caplog)


def test_same_file_twice_is_parsed_twice(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, LOGGER)
    write(tmp_path / "inc.conf", "k = 1\n")
    main = write(tmp_path / "main.conf", "[c]\n#include inc.conf\n#include inc.conf\n")
    assert items(load(main), "c") == [("k", "1"), ("k", "1")]
    assert f"{main}:3:" in warnings_text(caplog)


def _chain(tmp_path: Path, last_directive: str) -> Path:
    for i in range(11):
        write(tmp_path / f"f{i}.conf", f"[c{i}]\n#include f{i + 1}.conf\n")
    write(tmp_path / "f10.conf", f"[c10]\n{last_directive} f11.conf\nafter = 1\n")
    write(tmp_path / "f11.conf", "[c11]\n")
    return tmp_path / "f0.conf"


def test_include_depth_limit_ends_the_deepest_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, LOGGER)
    cfg = load(_chain(tmp_path, "#include"))
    assert [c.name for c in cfg] == [f"c{i}" for i in range(11)]
    assert items(cfg, "c10") == []
    logged = warnings_text(caplog)
    assert f"{tmp_path / 'f10.conf'}:2:" in logged
    assert "depth (10)" in logged


def test_tryinclude_at_depth_limit_continues(tmp_path: Path) -> None:
    cfg = load(_chain(tmp_path, "#tryinclude"))
    assert [c.name for c in cfg] == [f"c{i}" for i in range(11)]
    assert items(cfg, "c10") == [("after", "1")]


def test_include_recursion_stops_at_depth_limit(tmp_path: Path) -> None:
    main = write(tmp_path / "self.conf", "k = x\n#include self.conf\n")
    cfg = Config.from_string("[c]\n#include self.conf\n", config_dir=tmp_path)
    assert main.exists()
    assert items(cfg, "c") == [("k", "x")] * 10


# -- glob includes -------------------------------------------------------------------------------


def test_glob_include_in_sorted_byte_order(tmp_path: Path) -> None:
    for name in ("b.conf", "a.conf", "B.conf", ".hidden.conf", "c.txt"):
        write(tmp_path / "parts" / name, f"from = {name}\n")
    (tmp_path / "parts" / "dir.conf").mkdir()
    main = write(tmp_path / "main.conf", "[c]\n#include parts/*.conf\n")
    assert [v for _, v in items(load(main), "c")] == ["B.conf", "a.conf", "b.conf"]


def test_glob_braces_in_written_order(tmp_path: Path) -> None:
    for name in ("a1.conf", "a2.conf", "b.conf", "c.conf"):
        write(tmp_path / name, f"from = {name}\n")
    main = write(tmp_path / "main.conf", "[c]\n#include {c,a?,b}.conf\n")
    assert [v for _, v in items(load(main), "c")] == ["c.conf", "a1.conf", "a2.conf", "b.conf"]
    main = write(tmp_path / "main.conf", "[c]\n#include {c,zz}.conf\n")
    assert [v for _, v in items(load(main), "c")] == ["c.conf"]


def test_glob_matching_nothing_is_missing(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "[c]\n#include none/*.conf\n")
    with pytest.raises(ConfigError) as info:
        load(main)
    assert info.value.line == 2
    main = write(tmp_path / "main.conf", "[c]\n#include {x,y}.conf\n")
    with pytest.raises(ConfigError):
        load(main)
    main = write(tmp_path / "main.conf", "[c]\n#tryinclude none/*.conf\n")
    assert items(load(main), "c") == []


def test_glob_files_share_category_and_error_stops_the_rest(tmp_path: Path) -> None:
    write(tmp_path / "g" / "1.conf", "[one]\nx = 1\n")
    write(tmp_path / "g" / "2.conf", "y = 2\n")
    main = write(tmp_path / "main.conf", "[c]\n#include g/*.conf\n")
    assert shape(load(main)) == [("c", False, []), ("one", False, [("x", "1"), ("y", "2")])]
    write(tmp_path / "h" / "1.conf", "[one]\n[broken\n")
    write(tmp_path / "h" / "2.conf", "[two]\n")
    main = write(tmp_path / "main.conf", "[c]\n#include h/*.conf\n")
    assert [c.name for c in load(main)] == ["c", "one"]


def test_config_dir_is_not_a_pattern(tmp_path: Path) -> None:
    etc = tmp_path / "e[t]c"
    write(etc / "inc.conf", "k = 1\n")
    main = write(etc / "main.conf", "[c]\n#include inc.conf\n#include *.inc\n")
    write(etc / "x.inc", "i = 1\n")
    assert items(load(main), "c") == [("k", "1"), ("i", "1")]


# -- #exec ---------------------------------------------------------------------------------------


def test_exec_disabled_is_ignored_with_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, LOGGER)
    marker = tmp_path / "ran"
    main = write(tmp_path / "main.conf", f"[c]\n#exec touch {marker}\nk = 1\n")
    assert items(load(main), "c") == [("k", "1")]
    assert not marker.exists()
    assert f"{main}:2:" in warnings_text(caplog)


def test_exec_enabled_parses_stdout(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, LOGGER)
    main = write(
        tmp_path / "main.conf",
        "[c]\n#exec printf 'a = 1\\n[e]\\nb = 2\\n' \\; echo oops >&2\nafter = 3\n",
    )
    cfg = load(main, exec_includes=True)
    assert shape(cfg) == [("c", False, [("a", "1"), ("after", "3")]), ("e", False, [("b", "2")])]
    assert "oops" in warnings_text(caplog)


def test_exec_failure_is_logged_and_output_still_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, LOGGER)
    cfg = parse("[c]\n#exec <echo k=v \\; exit 3>\n", exec_includes=True, config_dir=tmp_path)
    assert items(cfg, "c") == [("k", "v")]
    assert "return value 3" in warnings_text(caplog)


# -- include_resolver ----------------------------------------------------------------------------


def test_include_resolver_splices_categories(tmp_path: Path) -> None:
    write(tmp_path / "file.conf", "from_file = 1\n")
    write(tmp_path / "after.conf", "after_splice = 1\n")
    db = Config.from_string("[db1]\nx = 1\n[dbt](!)\ny = 2\n[db2]\nz = 3\n")
    asked: list[str] = []

    def resolver(name: str) -> Config | None:
        asked.append(name)
        return db if name == "db.conf" else None

    main = write(
        tmp_path / "main.conf",
        '[a]\n#include "db.conf"\n#include file.conf\nown = 1\n'
        "#tryinclude <db.conf>\n#include after.conf\n",
    )
    cfg = load(main, include_resolver=resolver)
    assert asked == ["db.conf", "file.conf", "db.conf", "after.conf"]
    assert shape(cfg) == [
        ("a", False, [("own", "1")]),
        ("db1", False, [("x", "1")]),
        ("dbt", True, [("y", "2")]),
        ("db2", False, [("z", "3"), ("from_file", "1")]),
        ("db1", False, [("x", "1")]),
        ("dbt", True, [("y", "2")]),
        ("db2", False, [("z", "3"), ("after_splice", "1")]),
    ]
    # Spliced categories are copies: the resolver's config is untouched.
    assert db["db2"].items() == [("z", "3")]


def test_include_resolver_empty_config_counts_as_found(tmp_path: Path) -> None:
    cfg = Config.from_string("[a]\n#include gone.conf\n", include_resolver=lambda _n: Config())
    assert shape(cfg) == [("a", False, [])]


# -- the model API -------------------------------------------------------------------------------


def test_add_category_and_append() -> None:
    cfg = Config()
    tmpl = cfg.add_category("T", template=True, file="f", lineno=3)
    var = tmpl.append("k", "v", object=True, file="f", lineno=4)
    assert isinstance(var, Variable)
    assert (var.name, var.value, var.object, var.inherited) == ("k", "v", True, False)
    child = cfg.add_category("child", bases=["t"])
    assert isinstance(child, Category)
    assert child.items() == [("k", "v")]
    assert child.variables[0].inherited
    assert child.variables[0] is not var
    assert child.bases == ["t"]
    assert child.inherits == ["T"]
    with pytest.raises(KeyError):
        cfg.add_category("x", bases=["missing"])
    assert [c.name for c in cfg.categories(templates=True)] == ["T", "child"]


def test_extend_appends_copies() -> None:
    one = parse("[a]\nx=1\n")
    two = parse("[t](!)\nk=1\n[b](t)\n")
    one.extend(two)
    assert shape(one) == [
        ("a", False, [("x", "1")]),
        ("t", True, [("k", "1")]),
        ("b", False, [("k", "1")]),
    ]
    one["b"].variables[0].value = "changed"
    assert two["b"].get("k") == "1"
    assert one.categories(templates=True)[2].inherits == ["t"]
    one.extend(one)
    assert len(one.categories(templates=True)) == 6


def test_equality_rules() -> None:
    base = parse("[t](!)\nk=1\n[c](t)\nx => 1\n")
    assert base == parse("[t](!)\nk=1\n[c]\nk=1\nx = 1\n")  # bases and arrows ignored
    assert base != parse("[t]\nk=1\n[c]\nk=1\nx=1\n")  # template flag counts
    assert base != parse("[t](!)\nk=1\n[C]\nk=1\nx=1\n")  # names are exact
    assert base != parse("[t](!)\nk=1\n[c]\nx=1\nk=1\n")  # order counts
    assert base != "not a config"
    assert Config() == Config()


def test_reprs_do_not_show_values() -> None:
    cfg = parse("[peer]\nsecret = hunter2\n")
    shown = repr(cfg) + repr(cfg["peer"]) + repr(cfg["peer"].variables[0])
    assert "hunter2" not in shown
    assert "secret" in repr(cfg["peer"].variables[0])
    assert "1 categories" in repr(cfg)


def test_iteration_skips_templates() -> None:
    cfg = parse("[t](!)\n[a]\n[b]\n")
    assert [c.name for c in cfg] == ["a", "b"]
    assert [c.name for c in cfg.categories()] == ["a", "b"]


def test_from_file_accepts_pathlike(tmp_path: Path) -> None:
    path = write(tmp_path / "p.conf", "[c]\nk=v\n")
    assert load(path) == Config.from_file(os.fspath(path))
