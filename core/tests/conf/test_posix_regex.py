"""The ``(+filter)`` engine: glibc's POSIX extended syntax, matched in linear time."""

from __future__ import annotations

import ctypes
import locale
import platform
import random
from collections.abc import Iterator

import pytest

from ara_realtime.conf.posix_regex import (
    Meter,
    RegexError,
    RegexLimitError,
    WorkExceeded,
    compile_ere,
)
from ara_testservers.ci import unavailable

# (pattern, subject, glibc's answer in Asterisk's C.UTF-8 locale; None: regcomp refuses it),
# taken from glibc 2.36.
GLIBC = [
    ("a**", "aa", True),
    ("a*+", "aa", True),
    ("a{,2}", "aa", True),
    ("a)", "a)", True),
    (")", ")", True),
    ("()", "x", True),
    ("(|a)", "x", True),
    ("a|", "x", True),
    ("a||b", "x", True),
    ("\\d", "d", True),
    ("\\d", "1", False),
    ("\\n", "n", True),
    ("\\.", "a", False),
    ("\\w", "_", True),
    ("\\bfoo\\b", "a foo b", True),
    ("\\bfoo\\b", "afoo", False),
    ("\\<foo", "xfoo", False),
    ("foo\\>", "foo.", True),
    ("\\`a", "a", True),
    ("a\\'", "a", True),
    ("[\\d]", "\\", True),
    ("[]a]", "]", True),
    ("[^]a]", "]", False),
    ("[a-]", "-", True),
    ("[--/]", ".", True),
    ("[[:alpha:]]", "é", True),
    ("[[=a=]]", "a", True),
    ("[[.-.]]", "-", True),
    (".", "é", True),
    ("^.$", "é", True),
    ("[é]", "é", True),
    ("a{0}", "b", True),
    ("(a{0})*", "b", True),
    ("$a", "a", False),
    ("a^", "a", False),
    ("a$b", "ab", False),
    ("^$", "", True),
    ("x*", "", True),
    ("[[:digit:]]", "٣", False),
    ("\\W", "é", False),
    ("\\s", "\t", True),
    ("\\s", "\xa0", False),
    ("a+?", "a", True),
    ("a??", "x", True),
    ("(a*)*b", "aab", True),
    ("()*", "x", True),
    ("(^a)", "a", True),
    ("a{1,2}{3}", "aaa", True),
    ("a{01}", "a", True),
    ("a{,}", "x", True),
    ("[[.a.]-c]", "b", True),
    ("^^a", "a", True),
    ("a$$", "a", True),
    ("\\B", "ab", True),
    ("\\>", "a", True),
    ("x{0,0}", "x", True),
    ("(x{2}){3}", "xxxxxx", True),
    ("(x{2}){3}", "xxxxx", False),
    ("\\S", "é", True),
    ("\\s", "\u2003", True),
    ("[[:upper:]]", "É", True),
    ("[[:punct:]]", "«", True),
    ("[[:punct:]]", "_", True),
    ("^[[:xdigit:]]+$", "09afAF", True),
    ("^[[:xdigit:]]+$", "0g", False),
    ("[[:blank:]]", "\t", True),
    ("[[:cntrl:]]", "\x7f", True),
    ("[[:print:]]", "\x7f", False),
    ("[[:graph:]]", " ", False),
    ("^a|b$", "xb", True),
    ("^(a|b)c$", "bc", True),
    ("a.c", "a\nc", True),
    ("*a", "a", None),
    ("(*a)", "a", None),
    ("a|*b", "b", None),
    ("^*", "x", None),
    ("a{", "a{", None),
    ("a{x", "a{x", None),
    ("{", "{", None),
    ("a{1", "a", None),
    ("a{2,1}", "aa", None),
    ("\\", "x", None),
    ("[a-c-e]", "d", None),
    ("[z-a]", "b", None),
    ("[[:foo:]]", "a", None),
    ("[[.hyphen.]]", "-", None),
    ("[[:alpha:]", "a", None),
    ("[a", "a", None),
    ("x{32768}", "x", None),
    ("$*", "x", None),
    ("\\b*", "x", None),
    ("a{ 1}", "a", None),
    ("a{1,2,3}", "a", None),
    ("[]", "x", None),
    ("a{}", "a", None),
    ("[[:alpha:]-z]", "-", None),
    ("\\1", "a", None),
    ("(a", "", None),
    ("[[=ab=]]", "a", None),
]


def ours(pattern: str, subject: str) -> bool | None:
    try:
        rx = compile_ere(pattern)
    except RegexError:
        return None
    return rx.search(subject, Meter(10**9))


@pytest.mark.parametrize(("pattern", "subject", "expected"), GLIBC)
def test_matches_like_glibc(pattern: str, subject: str, expected: bool | None) -> None:
    assert ours(pattern, subject) is expected


def test_what_the_engine_refuses_is_a_limit_error() -> None:
    for pattern, reason in [
        ("(a)\\1", "back-references"),  # glibc takes it; no linear-time engine can
        ("(" * 101 + ")" * 101, "parentheses nested deeper than 100"),
        ("a" + "*" * 101, "nested deeper than 100"),
        ("(a{100}){101}", "more than 10000 states"),
    ]:
        with pytest.raises(RegexLimitError, match=reason):
            compile_ere(pattern)


def test_backtracking_patterns_cost_linear_work() -> None:
    meter = Meter(10**9)
    rx = compile_ere("^" + "a*" * 200 + "$")
    assert rx.search("a" * 5000, meter)
    assert not rx.search("a" * 5000 + "b", meter)
    used = 10**9 - meter.left  # steps the two searches took: linear, not exponential
    assert used < 100_000
    rx = compile_ere("(a|aa)*c")
    assert not rx.search("a" * 5000, meter)


def test_a_meter_stops_a_search_that_builds_many_states() -> None:
    # (a|b)*a(a|b){12} has 2**13 DFA states: each new one costs a walk of the automaton.
    rx = compile_ere("(a|b)*a(a|b){12}$")
    rnd = random.Random(7)
    text = "".join(rnd.choice("ab") for _ in range(5000))
    with pytest.raises(WorkExceeded):
        rx.search(text, Meter(20_000))
    assert rx.search(text + "a" + "b" * 12, Meter(10**9))


def test_text_ends_at_a_nul_like_a_c_string() -> None:
    assert not compile_ere("b").search("a\0b", Meter(100))
    assert not compile_ere("x*b").search("a\0b", Meter(100))


# -- cross-check against this machine's glibc, when it has one --------------------------------


@pytest.fixture
def glibc_regex() -> Iterator[ctypes.CDLL]:
    if platform.libc_ver()[0] != "glibc":
        unavailable("the glibc cross-check", "no glibc regcomp (the table above runs everywhere)")
    previous = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
    except locale.Error:
        unavailable("the glibc cross-check", "no C.UTF-8 locale")
    try:
        yield ctypes.CDLL(None)
    finally:
        locale.setlocale(locale.LC_CTYPE, previous)


def _glibc(libc: ctypes.CDLL, pattern: str, subject: str) -> bool | None:
    compiled = ctypes.create_string_buffer(512)  # regex_t is 64 bytes on 64-bit glibc
    if libc.regcomp(compiled, pattern.encode(), 1 | 8):  # REG_EXTENDED | REG_NOSUB
        return None
    try:
        return bool(libc.regexec(compiled, subject.encode(), 0, None, 0) == 0)
    finally:
        libc.regfree(compiled)


def test_the_table_is_glibcs_answer(glibc_regex: ctypes.CDLL) -> None:
    assert [_glibc(glibc_regex, p, s) for p, s, _ in GLIBC] == [e for _, _, e in GLIBC]


def test_random_patterns_agree_with_glibc(glibc_regex: ctypes.CDLL) -> None:
    rnd = random.Random(2024)
    atoms = [*"ab.^$|()[]*+?{},-\\", "[:alpha:]", "\\w", "\\b", "\\<", "\\>", "\\B", "{2}"]
    atoms += ["{1,3}", "{,2}", "x", " ", "_", "é", "[^a]", "\\.", "[a-c]", "[[:upper:]]", "A"]
    for _ in range(1500):
        pattern = "".join(rnd.choice(atoms) for _ in range(rnd.randint(0, 7)))
        for _ in range(3):
            subject = "".join(rnd.choice("ab xA_.-é1]") for _ in range(rnd.randint(0, 6)))
            want = _glibc(glibc_regex, pattern, subject)
            if want is None:
                break
            assert ours(pattern, subject) is want, (pattern, subject)
