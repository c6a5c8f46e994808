"""The REALTIME dialplan functions: Asterisk's arguments and output formats, quirks fixed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ara_realtime import ConfigError, QueryError, Realtime
from ara_realtime.cli import main
from ara_realtime.drivers import memory
from ara_realtime.functions import (
    FunctionResult,
    evaluate,
    realtime,
    realtime_destroy,
    realtime_field,
    realtime_hash,
    realtime_store,
    realtime_write,
    separate_args,
)
from ara_realtime.plugins import Plugins

COLUMNS = {
    "name": ("char", 40),
    "host": ("char", 40),
    "allow": ("char", 40),
    "callerid": ("char", 40),
    "port": ("integer4", 11),
}


@pytest.fixture(params=["sqlite3", "memory"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Realtime]:
    db = f"fn-{tmp_path.name}"
    settings = {"sqlite3": {db: {"dbfile": str(tmp_path / "t.db"), "requirements": "createclose"}}}
    r = Realtime({"sippeers": f"{request.param},{db}"}, settings, plugins=Plugins())
    assert r.require("sippeers", COLUMNS)
    r.store("sippeers", {"name": "alice", "host": "dynamic", "allow": "ulaw,alaw", "port": "5060"})
    r.store("sippeers", {"name": "bob", "host": "10.0.0.2", "callerid": '"Bob" <1002>'})
    yield r
    r.close()
    memory.reset(db)


# -- argument splitting (AST_STANDARD_APP_ARGS) -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("", []),
        ("a", ["a"]),
        ("a,b", ["a", "b"]),
        ("a,", ["a", ""]),  # a trailing delimiter: one more, empty
        (",a", ["", "a"]),
        (",,", ["", "", ""]),
        ("a, b", ["a", " b"]),  # spaces are kept
        ('a,"b,c",d', ["a", "b,c", "d"]),  # quotes group and are removed
        ('"a"b', ["ab"]),
        ("a\\,b,c", ["a,b", "c"]),  # backslash: the next character is literal
        ("a\\\\,b", ["a\\", "b"]),
        ('a\\"b', ['a"b']),
        ("f(a,b),c", ["f(a,b)", "c"]),  # parentheses and brackets group (and stay)
        ("[a,b],c", ["[a,b]", "c"]),
        ("a),b", ["a)", "b"]),  # an unmatched closer does not count
        ("a\\", ["a\\"]),
    ],
)
def test_separate_args(text: str, args: list[str]) -> None:
    assert separate_args(text) == args


def asterisk_separate(text: str) -> list[str]:
    """``__ast_app_separate_args`` (remove_chars = 1) transcribed step for step: the buffer
    is edited in place with memmove, as in C."""
    buf = [*text, "\0"]
    out: list[str] = []
    scan = 0
    wasdelim = None
    paren = quote = bracket = 0
    if buf[0] == "\0":
        return []
    while buf[scan] != "\0":
        start = scan
        while buf[scan] != "\0":
            c = buf[scan]
            if c == "(":
                paren += 1
            elif c == ")":
                paren = paren - 1 if paren else 0
            elif c == "[":
                bracket += 1
            elif c == "]":
                bracket = bracket - 1 if bracket else 0
            elif c == '"':
                quote = 0 if quote else 1
                del buf[scan]
                scan -= 1
            elif c == "\\":
                del buf[scan]
            elif c == "," and not paren and not quote and not bracket:
                wasdelim = scan
                buf[scan] = "\0"
                scan += 1
                break
            scan += 1
        out.append("".join(buf[start:]).split("\0", 1)[0])
    if scan > 0 and scan - 1 == wasdelim and buf[scan] == "\0":
        out.append("")
    return out


@settings(max_examples=500)
@given(st.text(alphabet='ab,()[]"\\ ', max_size=14).filter(lambda s: not s.endswith("\\")))
def test_separate_args_is_asterisks(text: str) -> None:
    ours, theirs = separate_args(text), asterisk_separate(text)
    if ours != theirs:
        # Asterisk's one artifact, not copied: a last argument made only of quotes is empty
        # once they are removed, and then looks like the end after a trailing delimiter,
        # which adds one more empty argument (REALTIME(f,n,v,"") has five there)
        assert theirs == [*ours, ""] and ours[-1] == "" and text.endswith('"')
        assert "," in text


def test_quotes_only_last_argument() -> None:
    assert separate_args('f,n,v,""') == ["f", "n", "v", ""]
    assert asterisk_separate('f,n,v,""') == ["f", "n", "v", "", ""]


# -- REALTIME -----------------------------------------------------------------------------------


def test_realtime_read_has_no_trailing_delimiter(rt: Realtime) -> None:
    text = realtime(rt, "sippeers", "name", "alice")
    # Asterisk: "...,port=5060," -- the spare delim1 at the end is not written here
    assert text is not None and text.endswith("port=5060")
    assert "name=alice,host=dynamic,allow=ulaw,alaw," in text
    assert "callerid" not in text  # NULL columns are left out
    assert evaluate(rt, "REALTIME(sippeers,name,alice)").value == text
    assert realtime(rt, "sippeers", "name", "nobody") is None
    assert evaluate(rt, "REALTIME(sippeers,name,nobody)") == FunctionResult(None)


def test_realtime_delimiters(rt: Realtime) -> None:
    got = evaluate(rt, "REALTIME(sippeers,name,bob,|,:)").value
    assert got is not None and got.endswith('|host:10.0.0.2|callerid:"Bob" <1002>')
    got = evaluate(rt, 'REALTIME(sippeers,name,bob,"\\,",)').value  # delim2 given empty
    assert got is not None and ",host10.0.0.2," in got
    got = evaluate(rt, "REALTIME(sippeers,name,bob,;)").value  # delim2 absent: "="
    assert got is not None and ";host=10.0.0.2;" in got


def test_realtime_operator_and_missing_matchvalue(rt: Realtime) -> None:
    got = evaluate(rt, "REALTIME(sippeers,name LIKE,b%)").value
    assert got is not None and "name=bob" in got
    # REALTIME(family,fieldmatch): the match value is empty (NULL or "" here)
    assert evaluate(rt, "REALTIME(sippeers,callerid)").value is not None


def test_realtime_write(rt: Realtime) -> None:
    assert evaluate(rt, "REALTIME(sippeers,name,bob,host)", "dynamic").count == 1
    assert rt.load("sippeers", name="bob")["host"] == "dynamic"  # type: ignore[index]
    assert evaluate(rt, "REALTIME_FIELD(sippeers,name,nobody,host)", "x").count == 0
    assert realtime_write(rt, "sippeers", "host", "dynamic", field="port", value="5080") == 2
    with pytest.raises(QueryError, match="must not be empty"):
        evaluate(rt, "REALTIME(sippeers,name,bob,)", "x")
    with pytest.raises(QueryError, match="REALTIME takes 4 arguments, got 3"):
        evaluate(rt, "REALTIME(sippeers,name,bob)", "x")


def test_realtime_field(rt: Realtime) -> None:
    assert realtime_field(rt, "sippeers", "name", "bob", "CallerID") == '"Bob" <1002>'
    assert evaluate(rt, "REALTIME_FIELD(sippeers,name,alice,callerid)").value == ""
    assert evaluate(rt, "REALTIME_FIELD(sippeers,name,nobody,host)").value is None
    with pytest.raises(QueryError, match="REALTIME_FIELD takes 4 arguments, got 3"):
        evaluate(rt, "REALTIME_FIELD(sippeers,name,bob)")


def test_realtime_hash_has_no_leading_comma(rt: Realtime) -> None:
    result = evaluate(rt, "REALTIME_HASH(sippeers,name,alice)")
    # Asterisk: ",name,host,..." and ",alice,dynamic,..."
    assert result.variables == {"~ODBCFIELDS~": "name,host,allow,port"}
    assert result.value == "alice,dynamic,ulaw\\,alaw,5060"  # commas escaped for HASH()
    assert realtime_hash(rt, "sippeers", "name", "nobody") is None
    rt.update("sippeers", "name", "bob", {"host": "a\\b"})
    names, values = realtime_hash(rt, "sippeers", "name", "bob")  # type: ignore[misc]
    assert values == 'bob,a\\\\b,"Bob" <1002>' and names == "name,host,callerid"
    with pytest.raises(QueryError, match="REALTIME_HASH cannot be written"):
        evaluate(rt, "REALTIME_HASH(sippeers,name,bob)", "x")


def test_realtime_store(rt: Realtime) -> None:
    result = evaluate(rt, "REALTIME_STORE(sippeers,name,allow,host)", 'carol,"g722,ulaw",dynamic')
    assert result == FunctionResult(None, {"RTSTOREID": "1"}, 1)
    assert rt.load("sippeers", name="carol") == {
        "name": "carol",
        "host": "dynamic",
        "allow": "g722,ulaw",
    }
    assert evaluate(rt, "REALTIME_STORE(sippeers,name)", "").count == 1  # one empty value
    with pytest.raises(QueryError, match="2 fields and 3 values"):
        evaluate(rt, "REALTIME_STORE(sippeers,name,host)", "a,b,c")
    with pytest.raises(QueryError, match="names field 'name' twice"):
        realtime_store(rt, "sippeers", ["name", "name"], ["a", "b"])
    with pytest.raises(QueryError, match="REALTIME_STORE cannot be read"):
        evaluate(rt, "REALTIME_STORE(sippeers,name)")
    with pytest.raises(QueryError, match="at least 2 arguments"):
        evaluate(rt, "REALTIME_STORE(sippeers)", "x")


def test_realtime_destroy(rt: Realtime) -> None:
    rt.store("sippeers", {"name": "dave", "host": "dynamic"})
    result = evaluate(rt, "REALTIME_DESTROY(sippeers,name,dave)")
    assert result == FunctionResult("name=dave,host=dynamic", {}, 1)
    assert rt.load("sippeers", name="dave") is None
    assert evaluate(rt, "REALTIME_DESTROY(sippeers,name,dave)") == FunctionResult(None, {}, 0)
    # the row read is one of them; every matching row is deleted, as in Asterisk
    text, deleted = realtime_destroy(rt, "sippeers", "host", "dynamic", delim1=";")  # type: ignore[misc]
    assert text.startswith("name=") and ";host=dynamic" in text and deleted == 1
    rt.store("sippeers", {"name": "erin", "host": "x"})
    assert evaluate(rt, "REALTIME_DESTROY(sippeers,name,erin)", "ignored").count == 1
    assert rt.load("sippeers", name="erin") is None


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("REALTIME", "expected FUNCTION(arguments)"),
        ("REALTIME(sippeers,name,bob", "expected FUNCTION(arguments)"),
        ("REALTIME(sippeers,name,bob)x", "expected FUNCTION(arguments)"),
        ("realtime(sippeers,name,bob)", "unknown function 'realtime'"),
        ("ODBC(x)", "unknown function 'ODBC'"),
        ("REALTIME(sippeers)", "REALTIME takes 2 to 5 arguments, got 1"),
        ("REALTIME(sippeers,name,bob,;,=,extra)", "REALTIME takes 2 to 5 arguments, got 6"),
        ("REALTIME(,name,bob)", "family and fieldmatch must not be empty"),
        ("REALTIME_HASH(sippeers,name,bob,x)", "REALTIME_HASH takes 3 arguments, got 4"),
        ("$[${X} + 1]", "is a dialplan expression ($[...]), not a function"),
        ("${REALTIME(sippeers,name,bob)", "expected FUNCTION(arguments) or ${FUNCTION"),
        ("REALTIME(sippeers,name,${EXTEN})", "the arguments of REALTIME hold ${...} or $[...]"),
        ("${REALTIME(sippeers,name,$[1+1])}", "the arguments of REALTIME hold ${...}"),
    ],
)
def test_mistakes(rt: Realtime, expression: str, message: str) -> None:
    with pytest.raises(QueryError, match=re.escape(message)):
        evaluate(rt, expression)


def test_the_dialplans_form_of_a_read(rt: Realtime) -> None:
    """${FUNCTION(...)} is how the dialplan reads a function; Set(FUNCTION(...)=value)
    writes it without ${...}."""
    assert evaluate(rt, "${REALTIME(sippeers,name,bob)}") == evaluate(
        rt, "REALTIME(sippeers,name,bob)"
    )
    assert evaluate(rt, " ${REALTIME_FIELD(sippeers,name,bob,host)} ").value == "10.0.0.2"
    with pytest.raises(QueryError, match=re.escape("written as Set(FUNCTION(arguments)=value)")):
        evaluate(rt, "${REALTIME(sippeers,name,bob,host)}", "10.9.9.9")
    assert rt.load("sippeers", name="bob")["host"] == "10.0.0.2"  # type: ignore[index]


def test_unmapped_family(rt: Realtime) -> None:
    with pytest.raises(ConfigError, match="not mapped"):
        evaluate(rt, "REALTIME(nosuch,name,bob)")


# -- the command --------------------------------------------------------------------------------


def run(pbx_dir: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--config-dir", str(pbx_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_read(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        pbx_dir, "function", "REALTIME_FIELD(sippeers,name,bob,context)", capsys=capsys
    )
    assert (code, out) == (0, "internal\n")
    code, out, _ = run(pbx_dir, "function", "REALTIME_HASH(voicemail,mailbox,1002)", capsys=capsys)
    assert code == 0
    assert out.splitlines() == [
        "2,default,1002,1234,Bob Builder,bob@example.org,no,eastern,50",
        "~ODBCFIELDS~=uniqueid,context,mailbox,password,fullname,email,attach,tz,maxmsg",
    ]
    code, out, err = run(pbx_dir, "function", "${REALTIME(sippeers,name,nobody)}", capsys=capsys)
    assert (code, out, err) == (1, "", "No rows found matching search criteria.\n")
    code, out, err = run(
        pbx_dir, "--json", "function", "REALTIME(sippeers,name,nobody)", capsys=capsys
    )
    assert (code, json.loads(out)["value"], err) == (1, None, "")


def test_cli_write_and_json(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        pbx_dir, "function", "REALTIME(sippeers,name,bob,context)", "other", capsys=capsys
    )
    assert (code, out) == (0, "Updated 1 RealTime record.\n")
    code, out, _ = run(
        pbx_dir,
        "function",
        "REALTIME_STORE(voicemail,context,mailbox,password)",
        "default,1009,99",
        capsys=capsys,
    )
    assert (code, out) == (0, "RTSTOREID=1\n")
    code, out, _ = run(
        pbx_dir, "--json", "function", "REALTIME_DESTROY(voicemail,mailbox,1009)", capsys=capsys
    )
    assert code == 0
    assert json.loads(out) == {
        "function": "REALTIME_DESTROY",
        "value": "uniqueid=3,context=default,mailbox=1009,password=99",
        "variables": {},
        "count": 1,
    }
    code, out, _ = run(
        pbx_dir, "function", "REALTIME_DESTROY(voicemail,mailbox,1009)", "x", capsys=capsys
    )
    assert (code, out) == (1, "Removed 0 RealTime records.\n")


def test_cli_mistake_is_one_line(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(pbx_dir, "function", "REALTIME_HASH(sippeers,name)", capsys=capsys)
    assert (code, out) == (2, "")
    assert err == (
        "realtime: error: REALTIME_HASH takes 3 arguments, got 2: "
        "REALTIME_HASH(family,fieldmatch,matchvalue)\n"
    )
