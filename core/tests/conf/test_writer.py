"""The .conf writer: what it writes reads back to an equal Config, or it refuses."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ara_realtime.conf import Config
from ara_realtime.errors import ConfigError

BLANKS = "".join(chr(i) for i in range(33))
# Characters the syntax treats specially, drawn often so that they meet each other.
SPECIAL = list(";\\\"'=[]#-+>()!,{}*?&^ \t\r\x0b\x7f\x85\u00a0\u2028\ufeffé€😀")

_char = st.one_of(
    st.sampled_from(SPECIAL),
    st.characters(exclude_characters="\n\0", exclude_categories=["Cs"]),
)
_raw = st.text(_char, max_size=12)

values = _raw.map(lambda s: s.strip(BLANKS))
var_names = (
    st.tuples(_char, _raw).map(lambda t: (t[0] + t[1].replace("=", "")).strip(BLANKS)).filter(bool)
)
cat_names = _raw.map(lambda s: s.replace("]", ""))


def _case_swap(name: str, flip: bool) -> str:
    return name.swapcase() if flip else name


@st.composite
def configs(draw: st.DrawFn) -> Config:
    """Random configs, including templates, inheritance and edits that force flattening."""
    cfg = Config()
    for _ in range(draw(st.integers(0, 6))):
        existing = cfg.categories(templates=True)
        bases: list[str] = []
        if draw(st.booleans()) and existing:
            for _ in range(draw(st.integers(1, 2))):
                pick = draw(st.sampled_from(existing))
                bases.append(_case_swap(pick.name, draw(st.booleans())))
            if draw(st.integers(0, 9)) == 0:
                bases.append("")  # the empty option: the first category of the file
        try:
            cat = cfg.add_category(draw(cat_names), template=draw(st.booleans()), bases=bases)
        except KeyError:  # swapcase of non-ASCII names may not fold back
            cat = cfg.add_category(draw(cat_names), template=draw(st.booleans()))
        if cat.variables and draw(st.integers(0, 4)) == 0:
            cat.variables[0].value = draw(values)  # inherited copy edited: must be flattened
        for _ in range(draw(st.integers(0, 4))):
            cat.append(draw(var_names), draw(values), object=draw(st.booleans()))
    return cfg


def _flags(cfg: Config) -> list[list[bool]]:
    return [[v.object for v in c.variables] for c in cfg.categories(templates=True)]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_round_trip_random_configs(cfg: Config) -> None:
    text = cfg.to_text()
    again = Config.from_string(text)
    assert again == cfg
    assert _flags(again) == _flags(cfg)
    assert again.to_text() == text


LINES = [
    "[a]",
    "[b](!)",
    "[c](a)",
    "[d](b,a)",
    "[a](+)",
    "[b](+,!)",
    "[e]()",
    "[ sp ]",
    "k = v",
    "k += more",
    "K+=x",
    "obj => 1",
    'q = "x;y"',
    "s = a\\;b",
    "t = a\\\\;b",
    "\\[n = 1",
    "\\#n = 2",
    "\\=n = 3",
    "\\;n = 4",
    "\\\\n = 5",
    "u = 1 ;-- c --; 2",
    ";--",
    "--;",
    "x = a--; b",
    "v = \\",
    "w = ===",
    "k2 = 'p' ; c",
    "é = ü",
]


@settings(max_examples=400)
@given(st.lists(st.sampled_from(LINES), max_size=25))
def test_round_trip_parsed_text(lines: list[str]) -> None:
    """Whatever the reader produces, the writer can write, and it reads back the same."""
    try:
        cfg = Config.from_string("\n".join(lines) + "\n")
    except ConfigError:
        return
    again = Config.from_string(cfg.to_text())
    assert again == cfg
    assert _flags(again) == _flags(cfg)


def test_exact_text_for_a_simple_config() -> None:
    cfg = Config.from_string(
        "[tmpl](!)\ntype = friend\n[peer](tmpl)\nsecret = a\\;b\\\nexten=>1,1,NoOp\nempty=\n"
    )
    assert cfg.to_text() == (
        "[tmpl](!)\ntype = friend\n\n[peer](tmpl)\nsecret = a\\;b\\\nexten => 1,1,NoOp\nempty =\n"
    )
    assert Config().to_text() == ""


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("[x", "1", "\\[x = 1"),
        ("#x", "1", "\\#x = 1"),
        ("=x", "1", "\\=x = 1"),
        (";x", "1", "\\;x = 1"),
        ("\\x", "1", "\\\\x = 1"),
        ("\\;x", "1", "\\\\\\;x = 1"),
        ("a+", "b", "a+ = b"),
        ("a", ";--", "a = \\;--"),
        ("a", "x--;", "a = x--\\;"),
        ("a", "p\\;q", "a = p\\\\;q"),
        ("a", ">b", "a = >b"),
        ("a", "x\ry", "a = x\ry"),
    ],
)
def test_escapes(name: str, value: str, line: str) -> None:
    cfg = Config()
    cfg.add_category("c").append(name, value)
    text = cfg.to_text()
    assert text == f"[c]\n{line}\n"
    assert Config.from_string(text)["c"].items() == [(name, value)]


def test_category_name_escapes_and_spaces() -> None:
    cfg = Config()
    cfg.add_category(" a;b ", template=True)
    cfg.add_category("")
    cfg.add_category("x[y")
    assert cfg.to_text() == "[ a\\;b ](!)\n\n[]\n\n[x[y]\n"
    assert Config.from_string(cfg.to_text()) == cfg


def test_inheritance_written_when_reproducible() -> None:
    cfg = Config.from_string("[T](!)\na=1\n[x]\nb=2\n[c](t,x)\nown=3\n[first]()\n")
    text = cfg.to_text()
    assert "[c](t,x)\nown = 3\n" in text
    assert "[first]()\n" in text
    again = Config.from_string(text)
    assert again.to_dict() == cfg.to_dict()
    assert again["c"].inherits == ["T", "x"]


def test_base_spelled_with_space_round_trips() -> None:
    cfg = Config.from_string("[ t]\nk=1\n[c]( t)\n")
    assert "[c]( t)\n" in cfg.to_text()
    assert Config.from_string(cfg.to_text()).to_dict() == cfg.to_dict()


@pytest.mark.parametrize(
    "text",
    [
        # the base changed after the child copied it
        "[b]\nx=1\n[c](b)\n[b](+)\ny=2\n",
        # the inherited copy was edited by +=
        "[b]\nx=1\n[c](b)\nx+=2\n",
        # inherited copies were added to an existing category in the middle
        "[b]\nx=1\n[c]\ny=1\n[c](+,b)\n",
    ],
)
def test_inheritance_flattened_when_not_reproducible(text: str) -> None:
    cfg = Config.from_string(text)
    out = cfg.to_text()
    assert "(b)" not in out
    assert "(+" not in out
    again = Config.from_string(out)
    assert again == cfg
    assert again["c"].bases == []


def test_unwritable_bases_flatten_instead_of_failing() -> None:
    cfg = Config()
    cfg.add_category("a,b").append("k", "1")
    cfg.add_category("+p").append("k", "2")
    cfg.add_category("!").append("k", "3")
    for base in ("a,b", "+p", "!"):
        cfg.add_category(f"from {base}", bases=[base])
    text = cfg.to_text()
    assert "](" not in text
    assert Config.from_string(text) == cfg


def test_arrows_and_templates_are_preserved() -> None:
    cfg = Config.from_string("[t](!)\nexten => s,1,NoOp\nplain = 1\n")
    again = Config.from_string(cfg.to_text())
    (tmpl,) = again.categories(templates=True)
    assert tmpl.template
    assert [v.object for v in tmpl] == [True, False]


@pytest.mark.parametrize(
    ("category", "name", "value", "reason"),
    [
        ("c", "k", " lead", "whitespace"),
        ("c", "k", "trail\t", "whitespace"),
        ("c", "k", "a\nb", "newline"),
        ("c", "k", "a\0b", "NUL"),
        ("c", "", "v", "empty"),
        ("c", "a=b", "v", "'='"),
        ("c", " k", "v", "whitespace"),
        ("c", "k\r", "v", "whitespace"),
        ("c", "k\nj", "v", "newline"),
        ("c]d", "k", "v", "']'"),
        ("c\nd", "k", "v", "newline"),
        ("c\0d", "k", "v", "NUL"),
    ],
)
def test_unrepresentable_raises_value_error(
    category: str, name: str, value: str, reason: str
) -> None:
    cfg = Config()
    cfg.add_category("ok").append("fine", "1")
    cfg.add_category(category).append(name, value)
    with pytest.raises(ValueError, match=reason) as info:
        cfg.to_text()
    assert repr(category) in str(info.value)
    if "]" not in category and "\n" not in category and "\0" not in category:
        assert repr(name) in str(info.value)
