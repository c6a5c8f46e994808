"""Tests for ara_realtime.patterns: static-dialplan matching and ordering."""

from __future__ import annotations

import itertools
import random
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ara_realtime import patterns
from ara_realtime.patterns import Mode, compare, find, match, sort, sort_key

MODES: tuple[Mode, ...] = ("match", "canmatch", "matchmore")

# --------------------------------------------------------------------------------------------
# Worked examples (facts 5.4 and Appendix D)
# --------------------------------------------------------------------------------------------

CONTEXT = ["911", "_X.", "_NXXNXXXXXX", "_1NXXNXXXXXX", "_9[1-9]X"]


def test_context_order():
    assert sort(CONTEXT) == ["911", "_1NXXNXXXXXX", "_9[1-9]X", "_NXXNXXXXXX", "_X."]


@pytest.mark.parametrize(
    ("dialed", "expected"),
    [("2125551212", "_NXXNXXXXXX"), ("912", "_9[1-9]X"), ("911", "911"), ("19", "_X.")],
)
def test_context_lookups(dialed, expected):
    assert find(CONTEXT, dialed) == expected
    assert find(reversed(CONTEXT), dialed) == expected


def test_dot_bang_end_order_and_early_match():
    exts = ["_X", "_X!", "_X."]
    assert sort(exts) == ["_X.", "_X!", "_X"]
    assert not match("_X.", "5")  # needs at least two characters
    assert match("_X!", "5")
    assert match("_X", "5")
    assert find(exts, "5") == "_X!"  # _X! wins over _X


def test_longer_literal_prefix_wins():
    exts = ["_1.", "_1X.", "_12."]
    assert sort(exts) == ["_12.", "_1X.", "_1."]
    assert find(exts, "123") == "_12."
    assert find(exts, "133") == "_1X."
    assert find(exts, "1a") == "_1."


def test_set_tie_break_lower_characters_first():
    assert compare("_[12]X", "_[13]X") < 0
    assert compare("_[13]X", "_[12]X") > 0
    assert sort(["_[13]X", "_[12]X"]) == ["_[12]X", "_[13]X"]


def test_smaller_set_beats_x():
    assert compare("_1[2-9]X", "_1XX") < 0
    assert sort(["_1XX", "_1[2-9]X"]) == ["_1[2-9]X", "_1XX"]
    assert find(["_1XX", "_1[2-9]X"], "123") == "_1[2-9]X"
    assert find(["_1XX", "_1[2-9]X"], "113") == "_1XX"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("_1NX", "_1[2-9]X"),
        ("_12X", "_1[2]X"),
        ("_[0-]", "_[-0]"),
        ("_8[]1", "_81"),
        ("_1ZX", "_1[1-9]x"),
        ("_X", "_x"),
        ("_n", "_[98765432]"),
        ("_[22]", "_2"),
        ("_5-5-5", "_555"),
        ("555-1212", "5551212"),
        ("1 2", "12"),
        ("_1 2", "_12"),
        ("_[]", "_"),
    ],
)
def test_equivalent_spellings(a, b):
    assert compare(a, b) == 0
    assert compare(b, a) == 0
    assert sort_key(a) == sort_key(b)
    assert sort([a, b]) == [a]
    assert sort([b, a]) == [b]


def test_sort_dedupe_keeps_first_spelling_in_place():
    got = sort(["_X.", "_1[2-9]X", "100", "_1NX", "1-00", "_12X", "_1[2]X"])
    assert got == ["100", "_12X", "_1[2-9]X", "_X."]


# --------------------------------------------------------------------------------------------
# Differences from the realtime switch (facts 5.2/5.4): the static answer
# --------------------------------------------------------------------------------------------


def test_static_not_longest_string_first():
    assert find(["_[0-9]XX", "_9XX"], "912") == "_9XX"
    assert find(["_9.", "_XXX"], "912") == "_9."


def test_modes_not_swapped():
    assert match("_91", "91", "match")
    assert match("_91", "91", "canmatch")
    assert not match("_91", "91", "matchmore")
    assert find(["_91"], "91", "canmatch") == "_91"
    assert find(["_91"], "91", "matchmore") is None


# --------------------------------------------------------------------------------------------
# Matching: plain extensions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ext", "dialed", "m", "cm", "mm"),
    [
        ("123", "123", True, True, False),
        ("123", "12", False, True, True),
        ("123", "1", False, True, True),
        ("123", "", False, True, True),
        ("123", "124", False, False, False),
        ("123", "1234", False, False, False),
        ("123", "23", False, False, False),
        ("1-2-3", "123", True, True, False),
        ("123", "1-2-3", True, True, False),
        ("123", "1-2", False, True, True),
        ("123", "---", False, True, True),
        ("abc", "ABC", False, False, False),
        ("s", "s", True, True, False),
        ("12 3", "123", True, True, False),
        ("123", "12 3", False, False, False),  # spaces only vanish from extension names
        ("", "", True, True, False),
        ("", "1", False, False, False),
        ("_", "", True, True, False),
    ],
)
def test_plain_modes(ext, dialed, m, cm, mm):
    got = (match(ext, dialed), match(ext, dialed, "canmatch"), match(ext, dialed, "matchmore"))
    assert got == (m, cm, mm)


def test_plain_x_is_literal():
    assert not match("1XX", "123")
    assert match("1XX", "1XX")


# --------------------------------------------------------------------------------------------
# Matching: patterns
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ext", "dialed", "m", "cm", "mm"),
    [
        # classes
        ("_X", "0", True, True, False),
        ("_X", "a", False, False, False),
        ("_Z", "0", False, False, False),
        ("_Z", "1", True, True, False),
        ("_N", "1", False, False, False),
        ("_N", "2", True, True, False),
        ("_n", "9", True, True, False),
        ("_x", "5", True, True, False),
        ("_z", "5", True, True, False),
        # literals are case-sensitive
        ("_a", "a", True, True, False),
        ("_a", "A", False, False, False),
        ("_A", "a", False, False, False),
        # partial and longer
        ("_1XX", "", False, True, True),
        ("_1XX", "1", False, True, True),
        ("_1XX", "12", False, True, True),
        ("_1XX", "123", True, True, False),
        ("_1XX", "1234", False, False, False),
        ("_1XX", "2", False, False, False),
        # dashes ignored on both sides
        ("_555-XXXX", "5551234", True, True, False),
        ("_555XXXX", "555-1234", True, True, False),
        ("_5-5", "5-", False, True, True),
        # spaces outside sets dropped from the pattern, not from the dialed string
        ("_1 X", "12", True, True, False),
        ("_1X", "1 2", False, False, False),
        # . one or more
        ("_1.", "1", False, True, True),
        ("_1.", "12", True, True, True),
        ("_1.", "1234", True, True, True),
        ("_1.", "", False, True, True),
        ("_1.9", "1234", True, True, True),  # matches as soon as . is reached
        # ! zero or more, early match
        ("_1!", "1", True, True, False),
        ("_1!", "123", True, True, False),
        ("_1!", "", False, True, True),
        ("_1!", "2", False, False, False),
        ("_!", "", True, True, False),
        ("_!", "x", True, True, False),
        # / ends the pattern
        ("_X/123", "5", True, True, False),
        ("_X/123", "5/123", False, False, False),
        ("_X/", "", False, True, True),
        ("_/", "", True, True, False),
        # empty pattern body
        ("_", "", True, True, False),
        ("_", "1", False, False, False),
    ],
)
def test_pattern_modes(ext, dialed, m, cm, mm):
    got = (match(ext, dialed), match(ext, dialed, "canmatch"), match(ext, dialed, "matchmore"))
    assert got == (m, cm, mm)


@pytest.mark.parametrize(
    ("ext", "yes", "no"),
    [
        ("_[1-3]", "123", "04"),
        ("_[13-5]", "1345", "26"),
        ("_[a-c9]", "abc9", "d8"),
        ("_[-5]", "5", "4-"),  # leading '-' is literal; a dialed '-' is skipped anyway
        ("_[5-]", "5", "4"),
        ("_[0-]", "0", "1"),
        ("_[9-1]", "", "159"),  # reversed range matches nothing
        ("_[ 1]", " 1", "2"),  # spaces inside a set are kept
        ("_[]]", "]", "1"),  # ']' cannot be in a set: "[]" (ignored) then a literal ']'
        ("_[[]", "[", "]"),
        ("_[.!]", ".!", "5"),
    ],
)
def test_sets(ext, yes, no):
    for ch in yes:
        assert match(ext, ch), (ext, ch)
    for ch in no:
        assert not match(ext, ch), (ext, ch)


def test_set_then_literal_bracket():
    assert compare("_[]]", "_]") == 0
    assert not match("_[]]", "")
    assert match("_[]]", "", "canmatch")
    assert match("_1[]]", "1]")


def test_empty_set_ignored():
    assert match("_8[]1", "81")
    assert match("_[]8", "8")
    # Quirk of Asterisk's matcher: a trailing "[]" is still "more pattern" at the end of input.
    assert not match("_8[]", "8")
    assert match("_8[]", "8", "canmatch")


def test_broken_set():
    for dialed in ("", "1", "12", "13", "1[2"):
        assert not match("_1[2", dialed), dialed
    assert not match("_1[2", "12", "canmatch")
    # Asterisk only fails when a dialed character has to be tested against the broken set.
    assert match("_1[2", "1", "canmatch")
    assert match("_1.[2", "12")
    # Scores 0x40000: after everything else, including the end of pattern.
    assert sort(["_1[2", "_1!", "_1", "_1.", "_1X"]) == ["_1X", "_1.", "_1!", "_1", "_1[2"]
    assert compare("_[12", "_[13") < 0  # scanning goes on after the '['
    assert compare("_1[", "_1[") == 0


def test_dialed_pattern_in_match_mode():
    assert match("_X.", "_X.")
    assert match("_NXX", "_[2-9]XX")
    assert match("_NXX", "_N-X-X")
    assert not match("_NXX", "_XXX")
    # Only MATCH mode does the pattern-vs-pattern comparison.
    assert not match("_X.", "_X.", "canmatch")
    assert not match("_X.", "_X.", "matchmore")
    # A plain extension never does.
    assert not match("_X", "X") and match("_X", "_X")
    assert find(["_X.", "_X!"], "_X!") == "_X!"


def test_utf8_bytes():
    assert match("é", "é")
    assert match("_é", "é")
    assert not match("_[é]", "é")  # a set holds bytes: one byte per position, like Asterisk
    assert match("_[é][é]", "é")
    assert compare("_é", "_e") > 0


def test_long_and_odd_inputs_do_not_crash():
    for ext in ("_[", "_]", "_[-]", "_[\x00-\xff]", "_" + "X" * 500, "[", "_-", "-_X", "\ud800"):
        for mode in MODES:
            match(ext, "123", mode)
        sort_key(ext)


def test_leading_dash_before_underscore_is_still_a_pattern():
    # Dashes are removed from the stored name, so "-_X" is stored (and matched) as "_X".
    assert compare("-_X", "_X") == 0
    assert match("-_X", "5")


# --------------------------------------------------------------------------------------------
# Ordering details
# --------------------------------------------------------------------------------------------


def test_plain_before_patterns_and_byte_order():
    assert sort(["_X", "9", "1-0", "100", "*", "#", "a", "B"]) == [
        "#",
        "*",
        "1-0",
        "100",
        "9",
        "B",
        "a",
        "_X",
    ]
    assert compare("99999", "_0") < 0
    assert compare("12", "123") < 0


def test_position_scores():
    # literal < N (8) < Z (9) < X (10) < bigger sets < . < ! < end < broken
    order = ["_5", "_N", "_Z", "_X", "_[0-9a]", "_.", "_!", "_", "_["]
    shuffled = order[:]
    random.Random(7).shuffle(shuffled)
    assert sort(shuffled) == order
    # same count: lowest character decides before the bitmap
    assert compare("_[27]", "_[36]") < 0
    # count first: a 2-member set starting high beats a 3-member set starting low
    assert compare("_[89]", "_[012]") < 0
    # literal characters by byte value
    assert compare("_1", "_2") < 0
    assert compare("_#", "_0") < 0
    # the lowest written range start counts, even from a reversed range adding no member
    assert compare("_[5-19]", "_9") < 0
    assert compare("_[9-1]5", "_5") == 0  # a set with no member is ignored like "[]"
    # "/" is an ordinary character in the ordering
    assert compare("_X/1", "_X/2") < 0


def test_find_walks_in_order_and_returns_given_spelling():
    exts = ["_X.", "_1-[2]X", "_12X"]
    assert find(exts, "123") == "_1-[2]X"
    assert find(exts, "1", "canmatch") == "_1-[2]X"
    assert find([], "1") is None
    assert find(["123"], "") is None
    assert find(["123"], "", "canmatch") == "123"


def test_find_matchmore_early_match_is_final():
    assert find(["_X!", "_XX"], "5", "matchmore") == "_XX"  # _XX sorts first
    assert find(["_1!", "_X."], "1", "matchmore") is None  # _1! sorts first: answer is no
    assert find(["_1!", "_X."], "1", "canmatch") == "_1!"
    assert find(["_X.", "_X!", "_X"], "5", "matchmore") == "_X."
    assert find(["_X!", "_X"], "5", "matchmore") is None
    assert find(["5", "_X!"], "5", "matchmore") is None  # exact plain match: keep looking


def test_sort_key_for_rows():
    rows = [{"exten": e} for e in CONTEXT]
    got = [r["exten"] for r in sorted(rows, key=lambda r: sort_key(r["exten"]))]
    assert got == sort(CONTEXT)


def test_parse_is_cached():
    patterns._compile.cache_clear()
    match("_NXX", "212")
    match("_NXX", "213")
    info = patterns._compile.cache_info()
    assert info.hits >= 1
    assert info.maxsize is not None


def test_public_api():
    assert patterns.__all__ == ["Mode", "compare", "find", "match", "sort", "sort_key"]


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

ODD = "_0129XNZxnz.!-[]/ a#"
names = st.text(alphabet=ODD, max_size=10)
pattern_names = st.text(alphabet=ODD, max_size=9).map(lambda s: "_" + s)
any_names = st.one_of(names, pattern_names)
dialed_strs = st.text(alphabet="0123456789#*-a", max_size=12)


@given(st.lists(any_names, max_size=12))
def test_sort_idempotent(exts):
    once = sort(exts)
    assert sort(once) == once


@given(st.lists(any_names, max_size=12), st.randoms(use_true_random=False))
def test_sort_order_independent(exts, rnd):
    shuffled = exts[:]
    rnd.shuffle(shuffled)
    a, b = sort(exts), sort(shuffled)
    assert [sort_key(e) for e in a] == [sort_key(e) for e in b]
    # each kept spelling is the first given of its class
    for got, order in ((a, exts), (b, shuffled)):
        for kept in got:
            first = next(e for e in order if compare(e, kept) == 0)
            assert kept == first
    # and no two kept entries are the same extension; order strictly increasing
    assert all(compare(x, y) < 0 for x, y in itertools.pairwise(a))


@given(any_names, any_names)
def test_compare_antisymmetric(a, b):
    assert compare(a, b) == -compare(b, a)
    assert compare(a, a) == 0


@given(any_names, any_names, any_names)
def test_compare_transitive(a, b, c):
    x, y, z = sorted([a, b, c], key=sort_key)
    assert compare(x, y) <= 0 and compare(y, z) <= 0 and compare(x, z) <= 0
    if compare(a, b) <= 0 and compare(b, c) <= 0:
        assert compare(a, c) <= 0
    if compare(a, b) == 0 and compare(b, c) == 0:
        assert compare(a, c) == 0


literal_exts = st.text(alphabet="0123456789#*-abXN_", max_size=8).filter(
    lambda s: not s.replace("-", "").startswith("_")
)


@given(literal_exts, st.text(alphabet="0123456789#*-abXN_", max_size=8))
def test_literal_match_is_dash_insensitive_equality(ext, dialed):
    assert match(ext, dialed) == (ext.replace("-", "") == dialed.replace("-", ""))


@given(st.lists(any_names, max_size=10), dialed_strs, st.sampled_from(["match", "canmatch"]))
def test_find_is_first_match_in_sort_order(exts, dialed, mode):
    expected = next((e for e in sort(exts) if match(e, dialed, mode)), None)
    assert find(exts, dialed, mode) == expected


@given(st.lists(any_names, max_size=10), dialed_strs)
def test_find_matchmore_without_bang(exts, dialed):
    exts = [e for e in exts if "!" not in e]
    expected = next((e for e in sort(exts) if match(e, dialed, "matchmore")), None)
    assert find(exts, dialed, "matchmore") == expected


@given(st.lists(any_names, max_size=10), dialed_strs)
def test_find_matchmore_with_bang(exts, dialed):
    got = find(exts, dialed, "matchmore")
    if got is not None:
        assert match(got, dialed, "matchmore")
        before = sort(exts)[: sort(exts).index(got)]
        assert not any(match(e, dialed, "matchmore") for e in before)


@given(any_names, dialed_strs)
def test_canmatch_contains_match(ext, dialed):
    if match(ext, dialed):
        assert match(ext, dialed, "canmatch")


@given(pattern_names, st.text(alphabet="_0129XN.!-[]", max_size=8))
def test_dialed_pattern_quirk_is_the_only_canmatch_gap(ext, dialed):
    if match(ext, dialed) and not match(ext, dialed, "canmatch"):
        assert dialed.startswith("_")


@given(any_names, dialed_strs)
def test_matchmore_implies_canmatch(ext, dialed):
    if match(ext, dialed, "matchmore"):
        assert match(ext, dialed, "canmatch")


# ---- differential: well-formed patterns against a character-set oracle ----------------------

DIGITS = "0123456789"
CLASS_SETS = {"X": DIGITS, "N": DIGITS[2:], "Z": DIGITS[1:]}


@st.composite
def set_tokens(draw):
    items = draw(
        st.lists(
            st.one_of(
                st.sampled_from(DIGITS + "#*"),
                st.tuples(st.integers(0, 9), st.integers(0, 9)).map(lambda t: f"{min(t)}-{max(t)}"),
            ),
            min_size=1,
            max_size=3,
        )
    )
    chars: set[str] = set()
    for it in items:
        if len(it) == 3:
            chars.update(DIGITS[int(it[0]) : int(it[2]) + 1])
        else:
            chars.add(it)
    return "[" + "".join(items) + "]", frozenset(chars)


tokens = st.one_of(
    st.sampled_from(DIGITS + "#*ab").map(lambda c: (c, frozenset(c))),
    st.sampled_from("XNZxnz").map(lambda c: (c, frozenset(CLASS_SETS[c.upper()]))),
    set_tokens(),
)


@st.composite
def well_formed(draw):
    toks = draw(st.lists(tokens, max_size=6))
    tail = draw(st.sampled_from(["", ".", "!"]))
    seps = [draw(st.sampled_from(["", "", "-"])) for _ in toks]
    text = "_" + "".join(s + t for s, (t, _) in zip(seps, toks, strict=True)) + tail
    return text, [cs for _, cs in toks], tail


def oracle(sets: list[frozenset[str]], tail: str, dialed: str, mode: Mode) -> bool:
    d = dialed.replace("-", "")
    m, n = len(sets), len(d)

    def prefix_ok(k: int) -> bool:
        return k <= m and all(d[i] in sets[i] for i in range(min(k, n)))

    if mode == "match":
        if tail == "":
            return n == m and prefix_ok(m)
        if tail == ".":
            return n > m and prefix_ok(m)
        return n >= m and prefix_ok(m)
    if mode == "canmatch":
        return prefix_ok(min(n, m)) and (n <= m or tail != "")
    if tail == ".":
        return prefix_ok(min(n, m))
    return n < m and prefix_ok(n)


@settings(max_examples=400)
@given(well_formed(), dialed_strs, st.sampled_from(MODES))
def test_matches_oracle(pat, dialed, mode):
    text, sets, tail = pat
    assert match(text, dialed, mode) == oracle(sets, tail, dialed, mode)


@settings(max_examples=200)
@given(well_formed(), st.data())
def test_generated_member_matches(pat, data):
    text, sets, tail = pat
    dialed = "".join(data.draw(st.sampled_from(sorted(cs))) for cs in sets)
    if tail == ".":
        dialed += "7"
    assert match(text, dialed)
    assert find([text, "_X.", "_!"], dialed) is not None


# ---- differential: ordering against a byte-bitmap reference --------------------------------


def _ref_positions(body: bytes) -> list[tuple[int, bytes]]:
    """(score, 32-byte bitmap) per position, written from the facts' description."""
    out: list[tuple[int, bytes]] = []
    i = 0
    while True:
        while i < len(body) and body[i] == ord("-"):
            i += 1
        if i == len(body):
            out.append((0x30000, bytes(32)))
            return out
        c = chr(body[i])
        i += 1
        bm = bytearray(32)

        def put(b: int, bm: bytearray = bm) -> None:
            bm[b // 8] |= 0x80 >> (b % 8)

        if c in "nNxXzZ":
            lo = {"n": 2, "x": 0, "z": 1}[c.lower()]
            for b in range(ord("0") + lo, ord("9") + 1):
                put(b)
            out.append(((10 - lo) * 0x100 | (ord("0") + lo), bytes(bm)))
        elif c == ".":
            out.append((0x18000, bytes(bm)))
        elif c == "!":
            out.append((0x28000, bytes(bm)))
        elif c == "[":
            end = body.find(b"]", i)
            if end < 0:
                out.append((0x40000, bytes(bm)))
                continue
            seen: set[int] = set()
            lows: list[int] = []
            j = i
            while j < end:
                if j + 2 < end and body[j + 1] == ord("-"):
                    lo, hi = body[j], body[j + 2]
                    j += 3
                else:
                    lo = hi = body[j]
                    j += 1
                lows.append(lo)
                seen.update(range(lo, hi + 1))
            i = end + 1
            if seen:
                for b in seen:
                    put(b)
                out.append((len(seen) * 0x100 | min(lows), bytes(bm)))
        else:
            put(body[i - 1])
            out.append((0x100 | body[i - 1], bytes(bm)))


def _ref_compare(a: str, b: str) -> int:
    a = re.sub(" ", "", a)
    b = re.sub(" ", "", b)
    if not a.startswith("_") or not b.startswith("_"):
        if a.startswith("_") != b.startswith("_"):
            return 1 if a.startswith("_") else -1
        x, y = a.replace("-", "").encode(), b.replace("-", "").encode()
        return (x > y) - (x < y)
    pa, pb = _ref_positions(a[1:].encode()), _ref_positions(b[1:].encode())
    for (sa, ba), (sb, bb) in zip(pa, pb, strict=False):
        if sa != sb:
            return -1 if sa < sb else 1
        if ba != bb:
            return -1 if bb < ba else 1  # more low characters first
        if sa == 0x30000:
            return 0
    return 0


no_space_names = st.one_of(
    st.text(alphabet="0129XNZxnz.!-[]/a#", max_size=10),
    st.text(alphabet="_0129XNZxnz.!-[]/a#", max_size=9).map(lambda s: "_" + s),
).filter(lambda s: not s.replace("-", "").startswith("_") or s.startswith("_"))


@settings(max_examples=500)
@given(no_space_names, no_space_names)
def test_compare_matches_reference(a, b):
    assert compare(a, b) == _ref_compare(a, b)


def test_compare_reference_on_examples():
    exts = [*CONTEXT, "_[12]X", "_[13]X", "_1[2-9]X", "_1XX", "_1.", "_1X.", "_12.", "_X!", "_X"]
    for a in exts:
        for b in exts:
            assert compare(a, b) == _ref_compare(a, b), (a, b)


@given(st.lists(any_names, max_size=8), dialed_strs)
def test_sort_and_find_accept_iterators(exts, dialed):
    assert sort(iter(exts)) == sort(exts)
    assert find(iter(exts), dialed) == find(exts, dialed)
    assume(exts)
    assert sort(exts)[0] in exts
