"""Pathological input is bounded: each case here used to hang or crawl (issue 7, item 8).

Every test asserts the result or the error; none asserts a timing. Where reaching a load-wide
cap honestly takes a while, the test lowers that cap and checks the mechanism.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ara_realtime.conf import Config, parser
from ara_realtime.conf.limits import (
    MAX_BRACE_ALTERNATIVES,
    MAX_CATEGORY_NAME_BYTES,
    MAX_LINE_BYTES,
    MAX_NESTED_COMMENTS,
    MAX_VALUE_LENGTH,
)
from ara_realtime.errors import ConfigError

LOGGER = "ara_realtime.conf"


def parse(text: str) -> Config:
    return Config.from_string(text, filename="t.conf")


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# -- lines and comments ------------------------------------------------------------------------


def test_a_line_of_640k_escaped_semicolons_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    text = "[c]\nk = " + "\\;" * 320_000 + "\nafter = 1\n"
    with caplog.at_level(logging.WARNING, LOGGER):
        cfg = parse(text)
    assert cfg["c"].items() == [("after", "1")]
    assert "t.conf:2: line too long (640004 bytes, the limit is 8190), skipped" in caplog.text


def test_escapes_and_markers_up_to_the_line_limit_are_read_in_one_pass() -> None:
    count = (MAX_LINE_BYTES - 10) // 2
    cfg = parse("[c]\nk = " + "\\;" * count + "\nm = a" + ";-- x --;" * 900 + "b\n")
    assert cfg["c"].items() == [("k", ";" * count), ("m", "ab")]


def test_line_length_is_counted_in_bytes_like_asterisk(tmp_path: Path) -> None:
    room = MAX_LINE_BYTES - 1  # 8190 bytes is the longest line Asterisk keeps
    ok = "k=" + "v" * (room - 2)
    too_long = "k=" + "v" * (room - 1)
    multibyte = "k=" + "é" * (room // 2)  # 4096 characters, 8192 bytes in UTF-8
    cfg = Config.from_string(f"[c]\n{ok}\n{too_long}\n{multibyte}\n")
    assert cfg["c"].items() == [("k", "v" * (room - 2))]
    # In a latin-1 file, "é" is one byte: the same characters make a line short enough.
    path = write(tmp_path / "l1.conf", f"[c]\n{multibyte}\n\xff\n".encode("latin-1"))
    assert Config.from_file(path)["c"].items() == [("k", "é" * (room // 2))]


def _reference_uncomment(raw: str, comment: int) -> tuple[str | None, int]:
    """The previous implementation (a transcription of Asterisk's in-place edits), as an oracle."""
    buf, new = raw, 0
    process: int | None = 0 if comment == 0 else None
    while True:
        p = buf.find(";", new)
        if p < 0:
            break
        if p > new and buf[p - 1] == "\\":
            buf = buf[: p - 1] + buf[p:]
            new = p
        elif buf[p + 1 : p + 3] == "--" and buf[p + 3 : p + 4] != "-":
            buf = buf[:p] + "\0" + buf[p + 1 :]
            new = p + 3
            comment += 1
        elif p >= new + 2 and buf[p - 2 : p] == "--":
            comment -= 1
            new = p + 1
            if comment == 0:
                if process is not None:
                    end = buf.find("\0", process)
                    end = len(buf) if end < 0 else end
                    buf = buf[:end] + buf[new:]
                    new = end
                else:
                    process = new
        elif comment == 0:
            buf = buf[:p]
            break
        else:
            new = p + 1
    if process is None:
        return None, comment
    end = buf.find("\0", process)
    return (buf[process:] if end < 0 else buf[process:end]).strip(parser._BLANKS), comment


@given(st.text(st.sampled_from(";-\\a "), max_size=40), st.integers(-2, 3))
def test_the_one_pass_comment_scan_equals_the_in_place_one(raw: str, comment: int) -> None:
    state = parser._FileState(None)
    state.comment = comment
    got = parser._Loader._uncomment(raw, state, "t.conf", 1)
    want, depth = _reference_uncomment(raw, comment)
    assert (got, state.comment) == (want or "", depth)


def test_block_comment_nesting_is_capped() -> None:
    with pytest.raises(ConfigError, match=r"t\.conf:2: block comments nested deeper than 128"):
        parse("[c]\n" + ";-- " * (MAX_NESTED_COMMENTS + 1) + "\n")


# -- category names and look-ups ---------------------------------------------------------------


def test_category_names_are_cut_to_79_bytes(tmp_path: Path) -> None:
    cfg = parse(f"[{'n' * 100}]\nk=1\n[{'é' * 50}]\n")
    assert [c.name for c in cfg] == ["n" * 79, "é" * 39]  # 78 bytes: no half character
    # Look-ups use the header's whole name, so they miss the cut one, as in Asterisk.
    with pytest.raises(ConfigError, match="category 'nnn.*' does not exist"):
        parse(f"[{'n' * 100}]\n[{'n' * 100}](+)\n")
    with pytest.raises(ConfigError, match="inheritance requested"):
        parse(f"[{'n' * 100}]\n[x]({'n' * 100})\n")
    assert parse(f"[{'n' * 100}]\nk=1\n[x]({'n' * 79})\n")["x"].items() == [("k", "1")]
    path = write(tmp_path / "l1.conf", f"[{'é' * 100}]\nk=\xff\n".encode("latin-1"))
    assert [c.name for c in Config.from_file(path)] == ["é" * MAX_CATEGORY_NAME_BYTES]


def test_many_categories_of_one_name_are_found_without_rescanning() -> None:
    count = 5_000
    text = (
        "[a](!)\nt=1\n" * count + "[a]\nk=0\n" + "".join(f"[a](+)\nk={i}\n" for i in range(count))
    )
    cfg = parse(text)
    assert len(cfg["a"].items()) == count + 1
    # Bases far down the file, each header looking one up.
    text = "".join(f"[c{i}]\nv={i}\n" for i in range(count)) + f"[x](c{count - 1})\n" * count
    cfg = parse(text)
    assert cfg.categories()[-1].items() == [("v", str(count - 1))]


def test_inheritance_that_multiplies_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each level copies the one before 64 times: 64**5 variables at level 5.
    levels = ["[b0]\nx=1"] + [f"[b{i}]({','.join([f'b{i - 1}'] * 64)})" for i in range(1, 6)]
    monkeypatch.setattr(parser, "MAX_COPIED_VARIABLES", 100_000)
    with pytest.raises(ConfigError, match=r"t\.conf:5: inheritance would copy more than 100000"):
        parse("\n".join(levels) + "\n")
    # Inheriting from itself doubles the category with each option.
    with pytest.raises(ConfigError, match=r"t\.conf:3: inheritance would copy"):
        parse("[a]\nx=1\n[a](+" + ",a" * 40 + ")\n")


def test_a_copy_limit_in_an_included_file_ends_the_whole_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parser, "MAX_COPIED_VARIABLES", 10)
    write(tmp_path / "inc.conf", "[b]\nx=1\n[c](b,b,b,b,b,b,b,b,b,b,b)\n")
    top = write(tmp_path / "top.conf", "#include inc.conf\n[after]\nk=1\n")
    with pytest.raises(ConfigError, match=r"inc\.conf:3: inheritance would copy more than 10"):
        Config.from_file(top)


# -- += ---------------------------------------------------------------------------------------


def test_many_appends_in_a_large_category_are_indexed() -> None:
    count = 5_000
    text = "[c]\n" + "".join(f"v{i}=x\n" for i in range(count)) + "n=0\n" + "n+=1\n" * count
    cat = parse(text)["c"]
    assert cat.get("n") == "0" + "1" * count
    assert len(cat) == count + 1


def test_appends_follow_asterisk_across_case_variants() -> None:
    # replace = last "A"; the target is the last name match holding the same value ("x").
    cfg = parse("[c]\nA=x\na=x\na=z\nA+=y\nA+=w\n")
    assert cfg["c"].items() == [("A", "x"), ("A", "xyw"), ("a", "z")]
    cfg = parse("[c]\nA=\na=q\nA+=y\n")  # an empty old value matches any value
    assert cfg["c"].items() == [("A", ""), ("A", "y")]
    cfg = parse("[b]\nk=1\n[c](b)\nk+=2\nk+=3\n")  # an inherited variable becomes own
    assert [(v.name, v.value, v.inherited) for v in cfg["c"]] == [("k", "123", False)]


def test_a_value_built_by_appends_is_capped() -> None:
    chunk = "x" * 8000
    lines = [f"k+={chunk}" for _ in range(MAX_VALUE_LENGTH // 8000 + 1)]
    with pytest.raises(ConfigError, match=r"t\.conf:11: 'k \+=' makes a value longer than 65536"):
        parse("[c]\nk=\n" + "\n".join(lines) + "\n")


# -- (+filter) -----------------------------------------------------------------------------------


def test_a_backtracking_filter_is_matched_in_linear_time() -> None:
    pattern = "^" + "a*" * 60 + "$"
    near_miss = "a" * 4000 + "b"
    cfg = parse(f"[c]\nx={near_miss}\n[c]\nx={'a' * 4000}\n[c](+x={pattern})\nadded=1\n")
    assert [c.get("added") for c in cfg] == [None, "1"]
    with pytest.raises(ConfigError, match="category 'c' does not exist"):
        parse(f"[c]\nx={near_miss}\n[c](+x=^(a|aa)*$)\n")


def test_filters_are_posix_extended_expressions() -> None:
    text = "[p]\ntype=aor\n[p]\ntype=endpoint\nctx=from-int\n"
    cases = {
        "type=endpoint": 1,
        "type=^end": 1,
        "type=[[:alpha:]]{8}": 1,
        "ctx=from\\-int&type=.": 1,
        "\\bctx\\b=int$": 1,
        "type=^aor$|^x$": 0,
        "type=^a+o?r$": 0,
        "type=[^a]o": 1,
    }
    for flt, index in cases.items():
        cfg = parse(text + f"[p](+{flt})\nhit=1\n")
        assert [c.get("hit") for c in cfg].index("1") == index, flt
    # "\d" is a literal "d" in POSIX, not a digit as in Python's re.
    with pytest.raises(ConfigError, match="does not exist"):
        parse("[p]\nn=5\n[p](+n=\\d)\n")


def test_filters_beyond_the_engine_give_an_error_naming_the_line() -> None:
    # A filter ends at the first ")" and at each ",": no groups, no "{m,n}" from a file.
    base = "[p]\nk=v\n"
    for flt, reason in [
        ("k=a" + "*" * 200, "nested deeper than 100"),
        ("k=a{100}{200}", "more than 10000 states"),
    ]:
        with pytest.raises(ConfigError, match=rf"t\.conf:3: category filter .*{reason}"):
            parse(base + f"[p](+{flt})\n")


def test_a_filter_glibc_refuses_matches_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, LOGGER), pytest.raises(ConfigError, match="not exist"):
        parse("[p]\nk=v\n[p](+k=*v)\n")
    assert "Regular expression '*v' failed to compile" in caplog.text


def test_filter_work_in_a_load_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    # Many categories of one name, each later header searching them all for the last one.
    count = 300
    cats = "".join(f"[a]\nk={i}\n" for i in range(count))
    headers = f"[a](+k=^{count - 1}$)\n" * count
    assert parse(cats + headers).categories()[-1].get("k") == str(count - 1)
    monkeypatch.setattr(parser, "MAX_FILTER_WORK", 10_000)
    with pytest.raises(ConfigError, match=r"category filters need more than 10000 steps"):
        parse(cats + headers)


# -- #include -------------------------------------------------------------------------------------


def test_brace_expansion_is_capped(tmp_path: Path) -> None:
    top = write(tmp_path / "top.conf", "[c]\n#tryinclude x" + "{a,b}" * 20 + ".conf\n")
    with pytest.raises(
        ConfigError,
        match=rf"top\.conf:2: cannot include .*more than {MAX_BRACE_ALTERNATIVES} names",
    ):
        Config.from_file(top)
    write(tmp_path / "xab.conf", "k=1\n")
    top = write(tmp_path / "top2.conf", "[c]\n#include x{a,b}{a,b}.conf\n")
    assert Config.from_file(top)["c"].items() == [("k", "1")]


def test_globs_with_many_stars_match_without_backtracking(tmp_path: Path) -> None:
    name = "a" * 200
    write(tmp_path / "d" / name, "k=1\n")
    write(tmp_path / "d" / f"{name}b.conf", "k=2\n")
    stars = "a*" * 40
    top = write(tmp_path / "top.conf", f"[c]\n#include d/{stars}b.conf\n#tryinclude d/*{stars}c\n")
    assert Config.from_file(top)["c"].items() == [("k", "2")]
    top = write(tmp_path / "t2.conf", "[c]\n#include d/[a]*?*[!x]\n#include d/*.co?f\n")
    assert Config.from_file(top)["c"].items() == [("k", "1"), ("k", "2"), ("k", "2")]


def test_the_paths_one_include_matches_are_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(30):
        write(tmp_path / "d" / f"f{i:02}.conf", f"k={i}\n")
    top = write(tmp_path / "top.conf", "[c]\n#include d/*.conf\n")
    assert len(Config.from_file(top)["c"]) == 30
    monkeypatch.setattr("ara_realtime.conf.globbing.MAX_INCLUDE_MATCHES", 20)
    with pytest.raises(ConfigError, match=r"top\.conf:2: .*matches more than 20 paths"):
        Config.from_file(top)


def test_files_read_by_one_load_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each file includes the next one 10 times: 10**5 reads of the last one.
    for level in range(5):
        write(tmp_path / f"f{level}.conf", f"#include f{level + 1}.conf\n" * 10)
    write(tmp_path / "f5.conf", "k=1\n")
    top = write(tmp_path / "top.conf", "[c]\n#include f0.conf\n")
    monkeypatch.setattr(parser, "MAX_FILES_PER_LOAD", 500)
    with pytest.raises(ConfigError, match=r"f4\.conf:\d+: more than 500 files read"):
        Config.from_file(top)


def test_a_file_included_many_times_warns_once_per_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Four levels of ten includes each read 11,111 files; each repeated-include warning (and
    any other per-line warning) is logged once per load, not once per read (11,110 lines)."""
    for level in range(1, 5):
        body = "".join(f"#include fan{level + 1}.conf\n" for _ in range(10))
        write(tmp_path / f"fan{level}.conf", f"[c{level}]\nx{level}\n{body}")
    write(tmp_path / "fan5.conf", "[leaf]\nk = v\n")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        cfg = Config.from_file("fan1.conf", config_dir=tmp_path)
    assert cfg.get("leaf", "k") == "v"
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == len(set(messages)), "a warning was logged twice in one load"
    # the repeated includes of fan1..fan4 (one per line), and their line 2 (no '=')
    assert len(messages) <= 4 * 10 + 4, len(messages)
