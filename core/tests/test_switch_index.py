"""The switch's compiled index against the static dialplan (``patterns.find``), no storage."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ara_realtime import patterns
from ara_realtime.switch._index import (
    EARLY,
    YES,
    Entry,
    Index,
    callerid_matches,
    shrink_callerid,
)

MODES = ("match", "canmatch", "matchmore")


def index_of(extens: list[str], callerids: list[str | None] | None = None) -> Index:
    """Entries in dialplan order, one per extension and caller ID (the lowest spelling kept),
    as the switch builds them."""
    cids = callerids or [None] * len(extens)
    entries = [
        Entry({"exten": e, "n": str(i)}, e if c is None else f"{e}/{c}", e, c)
        for i, (e, c) in enumerate(zip(extens, cids, strict=True))
    ]
    keyed = sorted((e.order(), e.exten, i, e) for i, e in enumerate(entries))
    kept = [next(group)[3] for _, group in itertools.groupby(keyed, key=lambda k: k[0])]
    return Index(kept)


def found(index: Index, dialed: str, mode: str, callerid: str | None = None) -> str | None:
    hit = index.find(dialed, mode, callerid)  # type: ignore[arg-type]
    return hit[0].exten if hit else None


# -- worked examples (facts 5.4, docs/patterns.md) --------------------------------------------

CONTEXT = ["911", "_X.", "_NXXNXXXXXX", "_1NXXNXXXXXX", "_9[1-9]X"]


@pytest.mark.parametrize(
    ("dialed", "expected"),
    [("2125551212", "_NXXNXXXXXX"), ("912", "_9[1-9]X"), ("911", "911"), ("19", "_X.")],
)
def test_dialplan_order_not_longest_first(dialed: str, expected: str) -> None:
    assert found(index_of(CONTEXT), dialed, "match") == expected


def test_realtime_switch_quirks_are_not_reproduced() -> None:
    # pbx_realtime tries the longest text first: _[0-9]XX for 912; the dialplan: _9XX
    assert found(index_of(["_[0-9]XX", "_9XX"]), "912", "match") == "_9XX"
    assert found(index_of(["_9.", "_XXX"]), "912", "match") == "_9."
    # pbx_realtime swaps canmatch and matchmore: _91 with 91 dialled is canmatch yes,
    # matchmore no (route now, do not wait)
    idx = index_of(["_91"])
    assert found(idx, "91", "canmatch") == "_91"
    assert found(idx, "91", "matchmore") is None
    assert found(idx, "9", "matchmore") == "_91"


def test_early_match_ends_matchmore() -> None:
    idx = index_of(["_X!", "_X"])
    assert idx.find("5", "match") == (idx.entries[0], EARLY)  # _X! sorts before _X
    assert found(idx, "5", "matchmore") is None
    assert found(index_of(["_X!", "_XX"]), "5", "matchmore") == "_XX"


def test_plain_extensions_come_first_and_prefixes_are_found() -> None:
    idx = index_of(["1234", "12", "_1X", "125"])
    assert found(idx, "12", "match") == "12"
    assert found(idx, "12", "canmatch") == "12"
    assert found(idx, "12", "matchmore") == "1234"  # the lowest longer plain extension
    assert found(idx, "13", "match") == "_1X"
    assert found(idx, "", "canmatch") == "12"
    assert found(idx, "126", "canmatch") is None


def test_dashes_and_spaces() -> None:
    idx = index_of(["555-1212", "_NXX-XXXX"])
    assert found(idx, "5551212", "match") == "555-1212"
    assert found(idx, "555-1212", "match") == "555-1212"
    assert found(idx, "6661212", "match") == "_NXX-XXXX"


def test_dialled_pattern_matches_its_equivalents() -> None:
    idx = index_of(["_1NX", "_X."])
    assert found(idx, "_1[2-9]X", "match") == "_1NX"
    # no such rule in canmatch, and "_" is no digit for _X.
    assert found(idx, "_1[2-9]X", "canmatch") is None
    assert patterns.find(["_1NX", "_X."], "_1[2-9]X", "canmatch") is None


def test_empty_set_is_skipped() -> None:
    idx = index_of(["_8[]1", "_8[]", "_8[][]2."])
    assert found(idx, "81", "match") == "_8[]1"
    assert found(idx, "823", "match") == "_8[][]2."
    assert found(idx, "82", "canmatch") == "_8[][]2."


def test_trailing_empty_set_quirk() -> None:
    idx = index_of(["_8[]"])
    assert found(idx, "8", "match") is None
    assert found(idx, "8", "canmatch") == "_8[]"


def test_very_long_patterns_need_no_recursion() -> None:
    long = "_" + "X" * 5000
    idx = index_of([long, "_" + "X" * 4999 + "1", "_X."])
    assert found(idx, "1" * 5000, "match") == "_" + "X" * 4999 + "1"
    assert found(idx, "2" * 5000, "match") == long
    assert found(idx, "2" * 100, "matchmore") == "_" + "X" * 4999 + "1"


# -- caller ID ----------------------------------------------------------------------------------


def test_shrink_callerid() -> None:
    assert shrink_callerid("(555) 123-4567") == "5551234567"
    assert shrink_callerid("_55[1-3]-X.") == "_55[1-3]X."
    assert shrink_callerid("1.2.3") == "123"
    assert shrink_callerid("") == ""


def test_callerid_rule() -> None:
    assert callerid_matches(None, None)
    assert callerid_matches(None, "555")
    assert callerid_matches("", None)  # an empty pattern: only calls without caller ID
    assert callerid_matches("", "")
    assert not callerid_matches("", "555")
    assert not callerid_matches("555", None)
    assert callerid_matches("555", "5-5-5")
    assert callerid_matches("_5XX", "512")
    assert not callerid_matches("_5XX", "5123")


def test_callerid_entries_come_before_the_plain_one() -> None:
    idx = index_of(["100", "100", "100", "_1XX"], [None, "_5XX", "555", None])
    assert [e.exten for e in idx.entries] == ["100/555", "100/_5XX", "100", "_1XX"]
    assert found(idx, "100", "match", "555") == "100/555"
    assert found(idx, "100", "match", "556") == "100/_5XX"
    assert found(idx, "100", "match", "777") == "100"
    assert found(idx, "100", "match", None) == "100"
    only_cid = index_of(["100", "_1XX"], ["555", None])
    assert found(only_cid, "100", "match", "777") == "_1XX"  # skipped for the caller ID


def test_callerid_search_below_a_rejected_entry() -> None:
    # the lowest entry below "_1" is refused for the caller ID; the next lowest sits behind
    # a "[]", found by walking the whole subtree
    idx = index_of(["_12", "_1[]2", "_1X"], ["555", None, None])
    assert [e.exten for e in idx.entries] == ["_12/555", "_1[]2", "_1X"]
    assert found(idx, "", "canmatch", "777") == "_1[]2"
    assert found(idx, "", "canmatch", "555") == "_12/555"
    assert found(idx, "1", "matchmore", "777") == "_1[]2"


def static_dialplan(
    rows: list[tuple[str, str | None]], dialed: str, mode: str, callerid: str | None
) -> str | None:
    """The static dialplan's walk, written plainly from Asterisk's rules: extensions in
    ext_cmp order, caller-ID entries (by their pattern) before the one without; the first
    whose extension answers and whose caller-ID pattern allows the caller."""
    ordered = sorted(
        rows,
        key=lambda r: (
            patterns.sort_key(r[0]),
            r[1] is None,
            patterns.sort_key(r[1]) if r[1] is not None else (0, ()),
            # duplicates: the lowest stored spelling (exten/callerid) is kept, as the switch does
            r[0] if r[1] is None else f"{r[0]}/{r[1]}",
        ),
    )
    seen = set()
    for ext, cid in ordered:
        ident = (patterns.sort_key(ext), cid is None, cid and patterns.sort_key(cid))
        if ident in seen:
            continue
        seen.add(ident)
        result = patterns._match_core(ext, dialed, mode)  # type: ignore[arg-type]
        if not result or not callerid_matches(cid, callerid):
            continue
        if result == 2 and mode == "matchmore":
            return None
        return ext if cid is None else f"{ext}/{cid}"
    return None


# -- properties: the index is patterns.find -----------------------------------------------------

ODD = "_0129XNZxnz.!-[] a#"
names = st.text(alphabet=ODD, max_size=9).filter(lambda s: s.replace(" ", ""))
pattern_names = st.text(alphabet=ODD, max_size=8).map(lambda s: "_" + s)
extens = st.lists(st.one_of(names, pattern_names), max_size=14)
dialed_strs = st.text(alphabet="0123456789#*-a_X.[] ", max_size=12)


@settings(max_examples=600)
@given(extens, dialed_strs, st.sampled_from(MODES))
def test_index_is_find(exts: list[str], dialed: str, mode: str) -> None:
    idx = index_of(exts)
    # find keeps the first spelling given: given in string order, the lowest (as the switch)
    expected = patterns.find(sorted(exts), dialed, mode)  # type: ignore[arg-type]
    assert found(idx, dialed, mode) == expected
    scanned = idx.scan(dialed, mode)  # type: ignore[arg-type]
    assert (scanned[0].exten if scanned else None) == expected


@settings(max_examples=300)
@given(st.lists(pattern_names, min_size=1, max_size=30), st.data())
def test_index_finds_members(exts: list[str], data: st.DataObject) -> None:
    """Dialled strings built to fit the patterns (random ones rarely reach deep branches)."""
    idx = index_of(exts)
    target = patterns._compile(data.draw(st.sampled_from(exts)))
    dialed = ""
    for tok in target.tokens:
        if tok == -1:  # "[]": skipped
            continue
        if tok < 0:
            if tok == -2:  # "."
                dialed += data.draw(st.sampled_from("0123"))
            break  # ".", "!", a broken set: the program ends
        members = [chr(b) for b in range(128) if (tok >> b) & 1 and chr(b) != "-"]
        if members:
            dialed += data.draw(st.sampled_from(members))
    for mode in MODES:
        assert found(idx, dialed, mode) == patterns.find(sorted(exts), dialed, mode)  # type: ignore[arg-type]


@settings(max_examples=400)
@given(
    st.lists(
        st.tuples(
            st.one_of(names, pattern_names),
            st.one_of(st.none(), st.sampled_from(["", "555", "_5XX", "_X.", "5551234", "_55[12]"])),
        ),
        max_size=12,
    ),
    dialed_strs,
    st.sampled_from(MODES),
    st.one_of(st.none(), st.sampled_from(["", "555", "512", "5551234", "552"])),
)
# two spellings of one extension and caller ID: the lowest stored spelling ("X /") is kept
@example([("X", ""), ("X ", "")], "X", "match", None)
def test_index_follows_the_callerid_rule(
    rows: list[tuple[str, str | None]], dialed: str, mode: str, callerid: str | None
) -> None:
    idx = index_of([e for e, _ in rows], [c for _, c in rows])
    expected = static_dialplan(rows, dialed, mode, callerid)
    assert found(idx, dialed, mode, callerid) == expected


def test_found_kind() -> None:
    idx = index_of(["_1!", "_2."])
    assert idx.find("1", "match") == (idx.entries[0], EARLY)
    assert idx.find("23", "match") == (idx.entries[1], YES)
