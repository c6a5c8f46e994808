"""Conditions in LDAP: escaped server filters that narrow, and exact checks on the client.

Every condition is checked exactly on the client (:func:`matcher`), so the directory's
matching rules (case folding, space squashing, Unicode normalisation) never decide a result.
The server filter built for it (:func:`prefilter`) only has to keep every row that matches
exactly; it is as narrow as the attribute's rules allow (see :mod:`ara_ldap.schema`).

Values in filters are escaped per RFC 4515, and more: every byte but ``A-Z a-z 0-9 . _ @ -``
becomes ``\\XX``, so nothing in a value is read as filter syntax (``*``, ``(``, ``)``, ``\\``)
and no leading or trailing space is trimmed by ldap3's filter parser. RDN values are escaped
per RFC 4514 (:func:`escape_rdn`).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from ara_realtime.conditions import like_regex

from .schema import AttributeInfo

__all__ = [
    "escape_rdn",
    "escape_value",
    "like_pieces",
    "matcher",
    "number",
    "prefilter",
    "sort_key",
]

_SAFE = re.compile(r"[A-Za-z0-9._@-]*")
_SAFE_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-")
_ESCAPED = [chr(b) if b in _SAFE_BYTES else f"\\{b:02x}" for b in range(256)]
_CANONICAL_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_PRINTABLE = re.compile(r"[!-~]+")  # printable ASCII without the space


def escape_value(value: str) -> str:
    """``value`` as an RFC 4515 assertion value that ldap3 passes on unchanged."""
    if _SAFE.fullmatch(value):
        return value
    return "".join([_ESCAPED[b] for b in value.encode("utf-8")])


_RDN_SPECIAL = frozenset('\\,+"<>;=')


def escape_rdn(value: str) -> str:
    """``value`` as an RFC 4514 attribute value in a DN (``cn=<this>,...``)."""
    out = []
    last = len(value) - 1
    for i, ch in enumerate(value):
        if ch in _RDN_SPECIAL or (i == 0 and ch in " #") or (i == last and ch == " "):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def number(text: str) -> int | None:
    """The integer ``text`` spells (Python's ``int`` syntax), or ``None``."""
    try:
        return int(text)
    except ValueError:
        return None


# -- LIKE ---------------------------------------------------------------------------------


def like_pieces(pattern: str) -> tuple[list[str], bool, bool]:
    """The literal runs of a LIKE pattern between wildcards, and whether it starts/ends with one.

    ``"al_c%"`` -> ``(["al", "c"], False, True)``; ``_`` splits like ``%`` (a substring filter
    ``al*c*`` keeps every value ``al_c%`` matches).
    """
    pieces: list[str] = []
    run: list[str] = []
    starts = ends = False
    chars = iter(pattern)
    position = 0
    for ch in chars:
        if ch == "\\":
            run.append(next(chars, ""))
            position += 2
            ends = False
            continue
        if ch in "%_":
            if position == 0:
                starts = True
            if run:
                pieces.append("".join(run))
                run = []
            ends = True
        else:
            run.append(ch)
            ends = False
        position += 1
    if run:
        pieces.append("".join(run))
    return pieces, starts, ends


def _substring_filter(attr: str, info: AttributeInfo, pattern: str) -> str | None:
    pieces, starts, ends = like_pieces(pattern)
    if not pieces:
        return None
    if info.substrings == "exact":
        if len(pieces) == 1 and not starts and not ends:
            return f"({attr}={escape_value(pieces[0])})"
        text = "*".join(escape_value(p) for p in pieces)
        return f"({attr}={'*' if starts else ''}{text}{'*' if ends else ''})"
    if starts:
        return None
    prefix = pieces[0]
    if ";" in prefix:
        prefix = prefix.split(";", 1)[0]  # several values read as one: the first ends at ';'
    if info.substrings == "folded":
        # only printable ASCII folds one character at a time; the last one may still combine
        # with a following mark under Unicode normalisation, so it is left out
        match = _PRINTABLE.match(prefix)
        prefix = match.group(0)[:-1] if match else ""
    elif info.substrings != "prefix":
        return None
    if not prefix:
        return None
    return f"({attr}={escape_value(prefix)}*)"


# -- the server filter --------------------------------------------------------------------


def prefilter(attr: str, info: AttributeInfo, op: str, value: str) -> str | None:
    """A filter keeping at least every entry whose ``attr`` satisfies ``op value`` exactly.

    ``None`` when the server cannot narrow this condition safely (the client decides alone).
    """
    if not info.known:
        return None
    if op == "=":
        if value == "":
            return None  # absent or empty (an empty octet string is present): client decides
        if info.integer:
            return f"({attr}={value})" if _CANONICAL_INT.fullmatch(value) else None
        if not info.equality:
            return f"({attr}=*)"
        if ";" in value and not info.single:
            return f"({attr}=*)"  # may be several values joined: the client decides
        return f"({attr}={escape_value(value)})"
    if op == "!=":
        if value == "":
            return f"({attr}=*)"
        if info.exact_equality and (not info.integer or _CANONICAL_INT.fullmatch(value)):
            return f"(!({attr}={escape_value(value)}))"
        return None
    if op == "LIKE":
        if like_regex(value).fullmatch("") is not None:
            return None  # matches absent values too
        narrowed = _substring_filter(attr, info, value)
        return narrowed or f"({attr}=*)"
    if op == "NOT LIKE":
        return None
    # < <= > >= never match an absent value
    if info.exact_ordering and (not info.integer or _CANONICAL_INT.fullmatch(value)):
        return f"({attr}{'<=' if op[0] == '<' else '>='}{escape_value(value)})"
    return f"({attr}=*)"


# -- the exact check on the client --------------------------------------------------------

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def matcher(op: str, want: str, integer: bool) -> Callable[[str], bool]:
    """``have -> bool``: does a stored value (``""`` when absent) satisfy ``op want``?"""
    if op in ("=", "!="):
        equal = op == "="
        target = number(want) if integer and want else None
        if target is not None:

            def eq_number(have: str) -> bool:
                if have == want:
                    return equal
                if not have:
                    return not equal
                got = number(have)
                return (got == target if got is not None else False) == equal

            return eq_number
        return (lambda have: have == want) if equal else (lambda have: have != want)
    if op == "LIKE":
        search = like_regex(want).fullmatch
        return lambda have: search(have) is not None
    if op == "NOT LIKE":
        search = like_regex(want).fullmatch
        return lambda have: search(have) is None
    compare = _ORDER[op]
    target_number = number(want) if integer else None
    if target_number is not None:

        def order_number(have: str) -> bool:
            if not have:
                return False
            got = number(have)
            return compare(got, target_number) if got is not None else compare(have, want)

        return order_number
    return lambda have: have != "" and compare(have, want)


def sort_key(integer: bool) -> Callable[[str], tuple[int, int, str]]:
    """Order of ``load_multi``: absent first, then numbers (integer columns) or code points."""
    if not integer:
        return lambda value: (1 if value else 0, 0, value)

    def key(value: str) -> tuple[int, int, str]:
        if not value:
            return (0, 0, "")
        got = number(value)
        return (1, got, "") if got is not None else (2, 0, value)

    return key
