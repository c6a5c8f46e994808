"""Filter building without a server: escaping, LIKE pieces, which server filter each rule allows."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ara_ldap.filters import escape_rdn, escape_value, like_pieces, matcher, prefilter
from ara_ldap.schema import AttributeInfo, parse_attribute_types

TYPES = parse_attribute_types(
    [
        "( 2.5.4.41 NAME 'name' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch "
        "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} )",
        "( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'RFC4519: common name' SUP name )",
        "( 1.2.3.1 NAME 'exact' EQUALITY octetStringMatch ORDERING octetStringOrderingMatch "
        "SUBSTR octetStringSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )",
        "( 1.2.3.2 NAME 'num' EQUALITY integerMatch ORDERING integerOrderingMatch "
        "SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
        "( 1.2.3.3 NAME 'bare' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
    ]
)
CN, EXACT, NUM, BARE = TYPES["cn"], TYPES["exact"], TYPES["num"], TYPES["bare"]


def test_subschema_inheritance_and_rules() -> None:
    assert TYPES["commonname"] is CN and TYPES["2.5.4.3"] is CN
    assert CN.equality and CN.substrings == "folded" and not CN.exact_equality
    assert EXACT.exact_equality and EXACT.exact_ordering and EXACT.substrings == "exact"
    assert NUM.integer and NUM.exact_equality and NUM.exact_ordering
    assert not BARE.equality and BARE.substrings == ""


@given(st.text(st.characters(codec="utf-8", exclude_characters="\x00")))
def test_escaped_values_are_inert_and_decode_back(value: str) -> None:
    escaped = escape_value(value)
    assert re.fullmatch(r"(?:[A-Za-z0-9._@-]|\\[0-9a-f]{2})*", escaped), escaped
    raw = re.sub(rb"\\([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]), escaped.encode())
    assert raw.decode("utf-8") == value


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("bob", "bob"),
        ("bob, jr.", "bob\\, jr."),
        ("a+b=c;d", "a\\+b\\=c\\;d"),
        ('"<x>"', '\\"\\<x\\>\\"'),
        ("#1", "\\#1"),
        (" both ", "\\ both\\ "),
        ("back\\slash", "back\\\\slash"),
        ("tab\there", "tab\\09here"),
        ("é", "é"),
    ],
)
def test_rdn_values_are_escaped_per_rfc_4514(value: str, escaped: str) -> None:
    assert escape_rdn(value) == escaped


@pytest.mark.parametrize(
    ("pattern", "pieces"),
    [
        ("al%", (["al"], False, True)),
        ("%al_ce", (["al", "ce"], True, False)),
        ("a\\%b\\_c", (["a%b_c"], False, False)),
        ("%", ([], True, True)),
        ("\\\\x%", (["\\x"], False, True)),
    ],
)
def test_like_pieces(pattern: str, pieces: tuple[list[str], bool, bool]) -> None:
    assert like_pieces(pattern) == pieces


@pytest.mark.parametrize(
    ("info", "op", "value", "expected"),
    [
        (CN, "=", "Alice", "(cn=Alice)"),
        (CN, "=", "", None),  # absent or empty: decided on the client
        (CN, "=", "a;b", "(cn=*)"),  # may be two values joined
        (CN, "!=", "x", None),  # case folding: (!(cn=x)) would drop "X"
        (CN, "!=", "", "(cn=*)"),
        (EXACT, "!=", "x", "(!(exact=x))"),
        (CN, "LIKE", "alice%", "(cn=alic*)"),  # the last prefix character may combine
        (CN, "LIKE", "a%", "(cn=*)"),
        (CN, "LIKE", "é%", "(cn=*)"),  # not printable ASCII
        (CN, "LIKE", "%x", "(cn=*)"),
        (CN, "LIKE", "%", None),  # matches absent values too
        (EXACT, "LIKE", "al_c%e", "(exact=al*c*e)"),
        (EXACT, "LIKE", "a\\*b", "(exact=a\\2ab)"),
        (CN, "<", "m", "(cn=*)"),  # case-folding order differs from code points
        (EXACT, "<", "m", "(exact<=m)"),
        (NUM, ">=", "-5", "(num>=-5)"),
        (NUM, ">", "05", "(num=*)"),  # not canonical: the client compares numerically
        (NUM, "=", "5060", "(num=5060)"),
        (BARE, "=", "x", "(bare=*)"),  # no equality rule: presence only
        (AttributeInfo("gone", known=False), "=", "x", None),
        (CN, "NOT LIKE", "a%", None),
    ],
)
def test_prefilters(info: AttributeInfo, op: str, value: str, expected: str | None) -> None:
    assert prefilter(info.name, info, op, value) == expected


def test_client_checks_are_exact() -> None:
    assert matcher("=", "Alice", False)("Alice") and not matcher("=", "Alice", False)("alice")
    assert matcher("!=", "x", False)("")  # absent differs from x
    assert matcher("=", "10", True)("10") and not matcher("=", "10", True)("9")
    assert matcher("<", "10", True)("9") and not matcher("<", "10", False)("9")
    assert not matcher(">", "", False)("")  # comparisons never match absent values
    assert matcher("LIKE", "a\\_b", False)("a_b") and not matcher("LIKE", "a\\_b", False)("axb")
