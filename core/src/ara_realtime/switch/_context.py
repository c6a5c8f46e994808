"""One context's rows as the switch last read them: entries per priority, indexes built lazily."""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Sequence

from ..datatypes import Row
from ..errors import QueryError
from ..patterns import _compile, _Compiled
from ._index import Entry, Index, shrink_callerid

__all__ = ["HINT", "ContextSnapshot", "parse_priority", "priority_arg"]

log = logging.getLogger("ara_realtime.switch")

#: The priority of hint rows (``priority = hint``, or ``-1`` where the column is an integer).
HINT = -1
_INT = re.compile(r"[+-]?[0-9]+")
_MAX_LOGGED = 5


def parse_priority(value: str) -> int | None:
    """A row's priority: a whole number >= 1, or :data:`HINT`; None if it is neither."""
    text = value.strip()
    if text == "hint":
        return HINT
    if not _INT.fullmatch(text):
        return None
    n = int(text)
    return n if n >= 1 or n == HINT else None


def priority_arg(priority: int | str) -> int:
    """A caller's priority: an int >= 1, ``"hint"`` / :data:`HINT`, or such a number as text."""
    if isinstance(priority, bool):
        raise QueryError(f"priority must be a whole number >= 1 or 'hint', not {priority!r}")
    if isinstance(priority, int):
        if priority >= 1 or priority == HINT:
            return priority
    elif isinstance(priority, str):
        parsed = parse_priority(priority)
        if parsed is not None:
            return parsed
    raise QueryError(f"priority must be a whole number >= 1 or 'hint', not {priority!r}")


def _fingerprint(rows: Sequence[Row]) -> Counter[tuple[tuple[str, str], ...]]:
    """Every row exactly (a multiset: order-free, duplicates counted)."""
    return Counter(tuple(r.items()) for r in rows)


class ContextSnapshot:
    """The rows of one context of one family, read at one moment.

    Rows become entries (one per extension, caller ID and priority); a priority's
    :class:`Index` is built the first time it is looked up, and never changes: a changed
    context is a new snapshot.
    """

    def __init__(
        self,
        family: str,
        context: str,
        rows: Sequence[Row],
        *,
        generation: int,
        loaded_at: float,
        previous: ContextSnapshot | None = None,
    ) -> None:
        self.family = family
        self.context = context
        self.generation = generation
        self.loaded_at = loaded_at
        self.rows = len(rows)
        self._rows = list(rows)
        self._fingerprint: Counter[tuple[tuple[str, str], ...]] | None = None
        #: rows left out and why (no exten, bad priority, duplicates)
        self.problems: list[str] = []
        self._entries: dict[int, list[Entry]] = {}
        self._indexes: dict[int, Index] = {}
        self._lock = threading.Lock()
        # parsed extensions, handed on to the next snapshot: a changed context re-parses
        # only its new extensions
        self.compiled: dict[str, _Compiled] = {}
        self._reuse = previous.compiled if previous is not None else {}
        for row in rows:
            entry = self._entry(row)
            if entry is not None:
                self._entries.setdefault(entry[0], []).append(entry[1])
        del self._reuse
        self._log(self.problems)

    def same_rows(self, rows: Sequence[Row]) -> bool:
        """Are these exactly the snapshot's rows (in any order)?"""
        if len(rows) != self.rows:
            return False
        if rows == self._rows:  # the usual case: same rows, same order
            return True
        if self._fingerprint is None:
            self._fingerprint = _fingerprint(self._rows)
        return _fingerprint(rows) == self._fingerprint

    @property
    def priorities(self) -> list[int]:
        """The priorities present, hint (-1) first."""
        return sorted(self._entries)

    def _entry(self, row: Row) -> tuple[int, Entry] | None:
        exten, priority = row.get("exten"), row.get("priority")
        if not exten or priority is None:
            missing = "exten" if not exten else "priority"
            self.problems.append(f"a row without {missing} (exten={exten!r}) is ignored")
            return None
        prio = parse_priority(priority)
        if prio is None:
            self.problems.append(
                f"exten {exten!r}: priority {priority!r} is not a whole number >= 1 or 'hint';"
                " row ignored"
            )
            return None
        extension, slash, callerid = exten.partition("/")
        if not extension.replace(" ", ""):
            self.problems.append(f"exten {exten!r}: no extension before '/'; row ignored")
            return None
        comp = self.compiled.get(extension) or self._reuse.get(extension)
        if comp is None:
            comp = _compile(extension)
        self.compiled[extension] = comp
        cid = shrink_callerid(callerid) if slash else None
        return prio, Entry(row, exten, extension, cid, comp)

    def index(self, priority: int) -> Index:
        """The index of ``priority`` (built on first use)."""
        index = self._indexes.get(priority)
        if index is not None:
            return index
        with self._lock:
            index = self._indexes.get(priority)
            if index is None:
                index = self._indexes[priority] = self._build(priority)
        return index

    def warm(self, like: ContextSnapshot) -> None:
        """Build the indexes ``like`` has built: a replaced snapshot's look-ups then find
        theirs ready (the re-read pays for them, not a call)."""
        for priority in list(like._indexes):
            self.index(priority)

    def _build(self, priority: int) -> Index:
        # ties (same extension and caller ID) go to the lowest spelling, then the lowest row,
        # whatever order the storage returned them in
        keyed = sorted(
            (e.order(), e.exten, tuple(e.row.items()), i, e)
            for i, e in enumerate(self._entries.get(priority, ()))
        )
        kept: list[Entry] = []
        problems: list[str] = []
        last = None
        for order, _, _, _, entry in keyed:
            if order == last:
                problems.append(
                    f"exten {entry.exten!r} priority {_show(priority)} is the same extension as "
                    f"{kept[-1].exten!r}; the row of {kept[-1].exten!r} is used"
                )
                continue
            kept.append(entry)
            last = order
        self.problems.extend(problems)
        self._log(problems)
        return Index(kept)

    def _log(self, problems: list[str]) -> None:
        if not problems:
            return
        more = len(problems) - _MAX_LOGGED
        log.warning(
            "realtime switch, context %r of family %r: %s%s",
            self.context,
            self.family,
            "; ".join(problems[:_MAX_LOGGED]),
            f" (and {more} more)" if more > 0 else "",
        )


def _show(priority: int) -> str:
    return "hint" if priority == HINT else str(priority)
