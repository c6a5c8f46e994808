"""Asterisk extension names and patterns, matched and ordered like the static dialplan.

``match`` follows Asterisk's matcher (``_extension_match_core``), ``compare``/``sort``/``sort_key``
its extension order (``ext_cmp``) and ``find`` the default (``extenpatternmatchnew=no``) walk of
a context: first extension in that order that matches wins. See ``docs/patterns.md``.

Text is handled as UTF-8 bytes, as Asterisk does; NUL is an ordinary character here.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Literal, NamedTuple

__all__ = ["Mode", "compare", "find", "match", "sort", "sort_key"]

Mode = Literal["match", "canmatch", "matchmore"]

#: One ordering position: (score, -bitmap). Lower sorts first.
Position = tuple[int, int]
#: ``(0, bytes as positions)`` for plain extensions, ``(1, positions)`` for patterns.
SortKey = tuple[int, tuple[Position, ...]]

# Position scores (lower = more specific = earlier).
_DOT = 0x18000
_BANG = 0x28000
_END = 0x30000
_BROKEN = 0x40000

# Matcher tokens: a non-negative int is a byte mask of accepted characters; these are the rest.
_T_EMPTY = -1  # "[]": skipped while digits remain
_T_DOT = -2
_T_BANG = -3
_T_BROKEN = -4  # "[" without "]"

# Matcher results.
_NO, _YES, _EARLY = 0, 1, 2

_DASH, _OPEN, _SLASH = ord("-"), ord("["), ord("/")


def _mask(lo: int, hi: int) -> int:
    """Bits ``lo..hi`` (bit n = byte n)."""
    return ((1 << (hi + 1)) - 1) ^ ((1 << lo) - 1) if lo <= hi else 0


_CLASSES = {
    ord("n"): _mask(ord("2"), ord("9")),
    ord("N"): _mask(ord("2"), ord("9")),
    ord("x"): _mask(ord("0"), ord("9")),
    ord("X"): _mask(ord("0"), ord("9")),
    ord("z"): _mask(ord("1"), ord("9")),
    ord("Z"): _mask(ord("1"), ord("9")),
}


class _Compiled(NamedTuple):
    is_pattern: bool
    text: bytes  # plain extension: normalised bytes (no "-", no spaces)
    tokens: tuple[int, ...]  # pattern: matcher program
    key: SortKey


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _normalise(name: str) -> str:
    """Drop spaces and ``-`` outside ``[...]`` (only ``_`` names have sets), like the dialplan."""
    out: list[str] = []
    in_set = False
    is_pattern = name[:1] == "_"
    for ch in name:
        if ch == "[":
            in_set = in_set or is_pattern
        elif ch == "]":
            in_set = False
        elif ch in " -" and not in_set:
            continue
        out.append(ch)
    return "".join(out)


def _set_items(body: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """``(first, last)`` items of the set ``body[start:end]``; ``a-b`` is a range."""
    items: list[tuple[int, int]] = []
    i = start
    while i < end:
        if i + 2 < end and body[i + 1] == _DASH:
            items.append((body[i], body[i + 2]))
            i += 3
        else:
            items.append((body[i], body[i]))
            i += 1
    return items


def _bitmap(mask: int) -> int:
    """Byte mask -> tie-break bitmap where lower characters weigh more."""
    return int(f"{mask:0256b}"[::-1], 2) if mask else 0


def _positions(body: bytes) -> tuple[Position, ...]:
    """Ordering positions of a pattern body (the text after ``_``)."""
    out: list[Position] = []
    i, n = 0, len(body)
    while True:
        while i < n and body[i] == _DASH:
            i += 1
        if i >= n:
            out.append((_END, 0))
            return tuple(out)
        c = body[i]
        i += 1
        if c in _CLASSES:
            mask = _CLASSES[c]
        elif c == ord("."):
            out.append((_DOT, 0))
            continue
        elif c == ord("!"):
            out.append((_BANG, 0))
            continue
        elif c == _OPEN:
            end = body.find(b"]", i)
            if end < 0:
                out.append((_BROKEN, 0))  # scanning resumes after the "["
                continue
            items = _set_items(body, i, end)
            i = end + 1
            mask = 0
            for lo, hi in items:
                mask |= _mask(lo, hi)
            if not mask:
                continue  # empty set: ignored
            out.append(((mask.bit_count() << 8) | min(lo for lo, _ in items), -_bitmap(mask)))
            continue
        else:
            mask = 1 << c
        lowest = (mask & -mask).bit_length() - 1
        out.append(((mask.bit_count() << 8) | lowest, -_bitmap(mask)))


def _tokens(body: bytes) -> tuple[int, ...]:
    """Matcher program of a pattern body; stops at ``/`` and after ``.``, ``!`` or a broken set."""
    out: list[int] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        i += 1
        if c == _DASH:
            continue
        if c == _SLASH:
            break
        if c in _CLASSES:
            out.append(_CLASSES[c])
        elif c == ord("."):
            out.append(_T_DOT)
            break
        elif c == ord("!"):
            out.append(_T_BANG)
            break
        elif c == _OPEN:
            end = body.find(b"]", i)
            if end < 0:
                out.append(_T_BROKEN)
                break
            if end == i:
                out.append(_T_EMPTY)
            else:
                mask = 0
                for lo, hi in _set_items(body, i, end):
                    mask |= _mask(lo, hi)
                out.append(mask)
            i = end + 1
        else:
            out.append(1 << c)
    return tuple(out)


@lru_cache(maxsize=4096)
def _compile(extension: str) -> _Compiled:
    """Parse once: normalised text, matcher program and sort key."""
    name = _encode(_normalise(extension))
    if name[:1] != b"_":
        return _Compiled(False, name, (), (0, tuple((b, 0) for b in name)))
    body = name[1:]
    return _Compiled(True, name, _tokens(body), (1, _positions(body)))


def _match_core(extension: str, dialed: str, mode: Mode) -> int:
    """0 = no, 1 = yes, 2 = early match (``!``)."""
    data = _encode(dialed)
    return _match_compiled(_compile(extension), data, data.replace(b"-", b""), mode)


def _match_compiled(comp: _Compiled, data: bytes, digits: bytes, mode: Mode) -> int:
    """:func:`_match_core` on a parsed extension; ``digits`` is ``data`` without ``-``."""
    if not comp.is_pattern:
        text = comp.text
        if len(text) < len(digits):
            return _NO
        if mode == "match":
            return _YES if text == digits else _NO
        if not text.startswith(digits):
            return _NO
        return _YES if mode == "canmatch" or len(text) > len(digits) else _NO

    if mode == "match" and data[:1] == b"_" and _positions(data[1:]) == comp.key[1]:
        return _YES  # dialed is itself an equivalent pattern

    j, n = 0, len(digits)
    for tok in comp.tokens:
        if j == n:  # dialed ran out before the pattern did
            if tok == _T_BANG:
                return _EARLY
            return _NO if mode == "match" else _YES
        if tok >= 0:
            if not (tok >> digits[j]) & 1:
                return _NO
            j += 1
        elif tok == _T_EMPTY:
            continue
        elif tok == _T_DOT:
            return _YES
        elif tok == _T_BANG:
            return _EARLY
        else:
            return _NO  # broken set reached with a digit to test
    if j < n:
        return _NO  # dialed longer than pattern
    return _NO if mode == "matchmore" else _YES


def match(pattern: str, dialed: str, mode: Mode = "match") -> bool:
    """Does extension ``pattern`` match ``dialed`` in ``mode``?

    ``match``: exactly; ``canmatch``: now or with more digits; ``matchmore``: only with more
    digits. An early match (``!``) is a yes for match/canmatch and a no for matchmore.
    """
    res = _match_core(pattern, dialed, mode)
    return res == _YES or (res == _EARLY and mode != "matchmore")


def sort_key(extension: str) -> SortKey:
    """Key that sorts like :func:`compare`; equal keys mean the same extension."""
    return _compile(extension).key


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` comes before, is the same extension as, or comes after ``b``."""
    ka, kb = sort_key(a), sort_key(b)
    return (ka > kb) - (ka < kb)


def sort(extensions: Iterable[str]) -> list[str]:
    """Dialplan order; of extensions that compare equal only the first given is kept."""
    keyed = sorted(((sort_key(e), e) for e in extensions), key=lambda ke: ke[0])
    out: list[str] = []
    last: SortKey | None = None
    for key, ext in keyed:
        if key != last:
            out.append(ext)
            last = key
    return out


def find(extensions: Iterable[str], dialed: str, mode: Mode = "match") -> str | None:
    """The extension the static dialplan picks for ``dialed``, or None.

    First of :func:`sort` order that matches in ``mode``; in ``matchmore`` mode an early match
    (``!``) met first ends the search with None.
    """
    for ext in sort(extensions):
        res = _match_core(ext, dialed, mode)
        if res == _NO:
            continue
        if res == _EARLY and mode == "matchmore":
            return None
        return ext
    return None
