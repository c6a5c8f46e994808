"""One context's extensions at one priority, compiled and indexed for the switch's look-ups.

The answer is always the one ``patterns.find`` gives over the same extensions (the static
dialplan's walk: first extension in dialplan order that answers), extended by the static
dialplan's caller-ID rule. The work is not a walk:

* plain extensions sit in a dict (exact look-up) and a sorted list (prefix look-ups for
  canmatch/matchmore); they come before every pattern, so a plain hit ends the search;
* patterns sit in a trie over their matcher programs (one edge per character set, ``[]``,
  ``.``, ``!`` or broken set), each node knowing the lowest dialplan rank below it. A look-up
  follows only the edges the dialled characters fit, best-first, and never enters a subtree
  that cannot beat the best answer found so far (branch and bound on the rank).

A look-up visits at most one trie node per matching pattern prefix, whatever the number of
patterns; :meth:`Index.scan` is the one-by-one walk, kept for explanations and as the
reference the index is tested and benchmarked against.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator

from .. import patterns
from ..datatypes import Row
from ..patterns import (
    Mode,
    SortKey,
    _compile,
    _Compiled,
    _encode,
    _match_compiled,
    _positions,
)
from . import _trie

__all__ = ["EARLY", "NO", "YES", "Entry", "Index", "callerid_matches", "shrink_callerid"]

NO, YES, EARLY = _trie.NO, _trie.YES, _trie.EARLY


def shrink_callerid(text: str) -> str:
    """A caller-ID pattern as the dialplan stores it (Asterisk's ``ast_shrink_phone_number``).

    ``(``, ``)`` and spaces go everywhere; ``-`` goes outside ``[...]``; ``.`` goes unless it
    is the last character.
    """
    out: list[str] = []
    depth = 0
    last = len(text) - 1
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "-":
            if not depth:
                continue
        elif ch == ".":
            if i != last:
                continue
        elif ch in "( )":
            continue
        out.append(ch)
    return "".join(out)


def callerid_matches(pattern: str | None, callerid: str | None) -> bool:
    """The dialplan's caller-ID test: no pattern matches anyone; an empty pattern matches
    only a call without caller ID; otherwise the pattern must match the number exactly."""
    if pattern is None:
        return True
    if not callerid:
        return not pattern
    return patterns.match(pattern, callerid)


class Entry:
    """One extension (with its caller-ID pattern, if any) at one priority, and its row."""

    __slots__ = ("callerid", "comp", "exten", "extension", "rank", "result", "row")

    def __init__(
        self,
        row: Row,
        exten: str,
        extension: str,
        callerid: str | None,
        comp: _Compiled | None = None,
    ) -> None:
        self.row = row
        #: the row's ``exten`` as stored, ``extension/callerid`` included
        self.exten = exten
        self.extension = extension
        #: the caller-ID pattern after ``/`` (shrunk as the dialplan does), None without one
        self.callerid = callerid
        self.comp: _Compiled = comp if comp is not None else _compile(extension)
        #: position in dialplan order (0 first); set when the index is built
        self.rank = 0
        #: what the switch hands out for this entry, built on first use
        self.result: object = None

    @property
    def is_pattern(self) -> bool:
        return self.comp.is_pattern

    def order(self) -> tuple[SortKey, int, SortKey]:
        """Dialplan order: the extension, then caller-ID entries (by pattern) before the
        entry without one, as Asterisk inserts them."""
        if self.callerid is None:
            return self.comp.key, 1, (0, ())
        return self.comp.key, 0, patterns.sort_key(self.callerid)

    def __repr__(self) -> str:
        return f"<Entry {self.exten!r} rank {self.rank}>"


class Index:
    """The extensions of one context at one priority, in dialplan order (see the module doc).

    ``entries`` must be in dialplan order already, one entry per extension and caller ID.
    """

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries: tuple[Entry, ...] = tuple(entries)
        self.plain: dict[bytes, tuple[Entry, ...]] = {}
        self._equivalent: dict[tuple[tuple[int, int], ...], tuple[Entry, ...]] = {}
        self.patterns = 0
        self.callerid_entries = 0
        plain: dict[bytes, list[Entry]] = {}
        equivalent: dict[tuple[tuple[int, int], ...], list[Entry]] = {}
        programs: list[tuple[tuple[int, ...], Entry]] = []
        for rank, entry in enumerate(self.entries):
            entry.rank = rank
            if entry.callerid is not None:
                self.callerid_entries += 1
            comp = entry.comp
            if not comp.is_pattern:
                plain.setdefault(comp.text, []).append(entry)
                continue
            self.patterns += 1
            equivalent.setdefault(comp.key[1], []).append(entry)
            programs.append((comp.tokens, entry))
        self.plain = {text: tuple(group) for text, group in plain.items()}
        self._plain_texts = sorted(self.plain)
        self._equivalent = {k: tuple(group) for k, group in equivalent.items()}
        self._root = _trie.build(programs)

    def __len__(self) -> int:
        return len(self.entries)

    # -- look-ups ----------------------------------------------------------------------------

    def find(
        self, dialed: str, mode: Mode, callerid: str | None = None, *, use_patterns: bool = True
    ) -> tuple[Entry, int] | None:
        """The entry the dialplan picks for ``dialed`` and how it matched (YES or EARLY)."""
        data = _encode(dialed)
        digits = data.replace(b"-", b"") if b"-" in data else data
        hit = self._find_plain(digits, mode, callerid)
        if hit is not None:
            return hit, YES
        if not use_patterns or not self.patterns:
            return None
        best = _trie.Best()
        accept = _acceptor(callerid) if self.callerid_entries else None
        if mode == "match" and data[:1] == b"_":  # a dialled pattern matches its equivalents
            _trie.offer(self._equivalent.get(_positions(data[1:]), ()), YES, accept, best)
        _trie.search(self._root, digits, mode, accept, best)
        entry = best.leaf
        if entry is None:
            return None
        assert isinstance(entry, Entry)
        if best.kind == EARLY and mode == "matchmore":
            return None  # "!" first: the dialplan says "do not wait for more digits"
        return entry, best.kind

    def _find_plain(self, digits: bytes, mode: Mode, callerid: str | None) -> Entry | None:
        if mode == "match":
            return _first_accepted(self.plain.get(digits, ()), callerid)
        texts = self._plain_texts
        i = bisect_left(texts, digits)
        while i < len(texts) and texts[i].startswith(digits):
            text = texts[i]
            i += 1
            if mode == "matchmore" and len(text) == len(digits):
                continue
            hit = _first_accepted(self.plain[text], callerid)
            if hit is not None:
                return hit
        return None

    def scan(
        self, dialed: str, mode: Mode, callerid: str | None = None, *, use_patterns: bool = True
    ) -> tuple[Entry, int] | None:
        """:meth:`find` by trying every entry in dialplan order (the reference walk)."""
        for entry, result in self.walk(dialed, mode, callerid, use_patterns=use_patterns):
            if result == EARLY and mode == "matchmore":
                return None
            return entry, result
        return None

    def walk(
        self, dialed: str, mode: Mode, callerid: str | None = None, *, use_patterns: bool = True
    ) -> Iterator[tuple[Entry, int]]:
        """Every entry that answers ``dialed`` in ``mode`` (caller ID included), in dialplan
        order, with how it matched; the first is the dialplan's pick."""
        data = _encode(dialed)
        digits = data.replace(b"-", b"")
        for entry in self.entries:
            if entry.comp.is_pattern and not use_patterns:
                break  # patterns come after every plain extension
            result = _match_compiled(entry.comp, data, digits, mode)
            if result != NO and callerid_matches(entry.callerid, callerid):
                yield entry, result


def _first_accepted(entries: tuple[Entry, ...], callerid: str | None) -> Entry | None:
    for entry in entries:
        if entry.callerid is None or callerid_matches(entry.callerid, callerid):
            return entry
    return None


def _acceptor(callerid: str | None) -> Callable[[_trie.Leaf], bool]:
    def accept(leaf: _trie.Leaf) -> bool:
        assert isinstance(leaf, Entry)
        return leaf.callerid is None or callerid_matches(leaf.callerid, callerid)

    return accept
