"""``#include`` name expansion: glibc ``glob`` with ``GLOB_NOMAGIC | GLOB_BRACE``, bounded.

Brace alternatives and matched paths are capped (:data:`~ara_realtime.conf.limits`), and a
path component is matched without backtracking: the pieces between ``*`` wildcards are placed
leftmost, one after the other, which is exact for globs and linear per piece.
"""

from __future__ import annotations

import itertools
import os
import re

from ara_realtime.conf.limits import MAX_BRACE_ALTERNATIVES, MAX_INCLUDE_MATCHES

__all__ = ["GlobLimitError", "expand"]


class GlobLimitError(Exception):
    """A pattern expands to more names or paths than the limits allow."""


def expand(base: str, arg: str) -> list[str]:
    """The files an include argument names, in glibc's order (may include missing ones)."""
    alternatives = _braces(arg, [0])
    if alternatives is None:
        return _glob_one(base, arg, nomagic=True)
    found: list[str] = []
    for alt in alternatives:
        found.extend(_glob_one(base, alt, nomagic=False))
        if len(found) > MAX_INCLUDE_MATCHES:
            raise GlobLimitError(f"the pattern matches more than {MAX_INCLUDE_MATCHES} paths")
    return found


def _braces(pattern: str, made: list[int]) -> list[str] | None:
    """Brace alternatives in written order (nested braces expanded), or ``None`` if none.

    ``made[0]`` counts the names produced so far, across the recursion.
    """
    start = -1
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "{":
            start = i
            break
        i += 1
    if start < 0:
        return None
    depth = 0
    commas: list[int] = []
    close = -1
    i = start
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                close = i
                break
        elif ch == "," and depth == 1:
            commas.append(i)
        i += 1
    if close < 0:
        return None
    cuts = [start, *commas, close]
    prefix, suffix = pattern[:start], pattern[close + 1 :]
    result: list[str] = []
    for lo, hi in itertools.pairwise(cuts):
        sub = prefix + pattern[lo + 1 : hi] + suffix
        more = _braces(sub, made)
        if more is None:
            made[0] += 1
            if made[0] > MAX_BRACE_ALTERNATIVES:
                raise GlobLimitError(
                    f"the pattern's braces expand to more than {MAX_BRACE_ALTERNATIVES} names"
                )
            result.append(sub)
        else:
            result.extend(more)
    return result


def _has_magic(pattern: str) -> bool:
    bracket = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "*?":
            return True
        if ch == "[":
            bracket = True
        elif ch == "]" and bracket:
            return True
        i += 1
    return False


def _glob_one(base: str, pattern: str, *, nomagic: bool) -> list[str]:
    absolute = pattern.startswith("/")
    full = pattern if absolute else os.path.join(base, pattern)
    if not _has_magic(pattern):
        return [full] if nomagic or os.path.lexists(full) else []
    current = ["/"] if absolute else [base]
    parts = [p for p in pattern.split("/") if p]
    for part in parts:
        nxt: list[str] = []
        if _has_magic(part):
            matcher = _Segment.parse(part)
            for folder in current:
                try:
                    names = os.listdir(folder)
                except OSError:
                    continue
                for entry in names:
                    if entry.startswith(".") and not part.startswith("."):
                        continue
                    if matcher is not None and matcher.matches(entry):
                        nxt.append(os.path.join(folder, entry))
                if len(nxt) > MAX_INCLUDE_MATCHES:
                    raise GlobLimitError(
                        f"the pattern matches more than {MAX_INCLUDE_MATCHES} paths"
                    )
        else:
            literal = re.sub(r"\\(.)", r"\1", part)
            nxt = [
                os.path.join(f, literal)
                for f in current
                if os.path.lexists(os.path.join(f, literal))
            ]
        current = nxt
    return sorted(current, key=os.fsencode)


class _Segment:
    """One path component's glob: fixed-width pieces separated by ``*`` wildcards."""

    __slots__ = ("first", "last", "last_width", "middle", "width")

    def __init__(self, pieces: list[tuple[str, int]], starred: bool) -> None:
        compiled = [re.compile(rx, re.DOTALL) for rx, _ in pieces]
        self.first = compiled[0]
        self.last = compiled[-1] if starred else None
        self.last_width = pieces[-1][1]
        self.middle = compiled[1:-1]
        self.width = sum(w for _, w in pieces)  # a shorter name cannot match

    @classmethod
    def parse(cls, part: str) -> _Segment | None:
        """The matcher for ``part`` (``None`` if it is malformed, so it matches nothing)."""
        pieces: list[tuple[str, int]] = []
        out: list[str] = []  # one regex per character of the current piece
        i, n = 0, len(part)
        while i < n:
            ch = part[i]
            if ch == "\\" and i + 1 < n:
                out.append(re.escape(part[i + 1]))
                i += 2
            elif ch == "*":
                pieces.append(("".join(out), len(out)))
                out = []
                i += 1
                while i < n and part[i] == "*":
                    i += 1  # "**" is "*"
            elif ch == "?":
                out.append(".")
                i += 1
            elif ch == "[":
                j = i + 1
                if j < n and part[j] in "!^":
                    j += 1
                if j < n and part[j] == "]":
                    j += 1
                end = part.find("]", j)
                if end < 0:
                    out.append(re.escape(ch))
                    i += 1
                    continue
                body = part[i + 1 : end]
                negate = body[:1] in ("!", "^")
                if negate:
                    body = body[1:]
                items: list[str] = []
                k = 0
                while k < len(body):
                    if k + 2 < len(body) and body[k + 1] == "-":
                        items.append(f"{re.escape(body[k])}-{re.escape(body[k + 2])}")
                        k += 3
                    else:
                        items.append(re.escape(body[k]))
                        k += 1
                out.append("[" + ("^" if negate else "") + "".join(items) + "]")
                i = end + 1
            else:
                out.append(re.escape(ch))
                i += 1
        pieces.append(("".join(out), len(out)))
        try:
            return cls(pieces, starred=len(pieces) > 1)
        except re.error:
            return None

    def matches(self, name: str) -> bool:
        if len(name) < self.width:
            return False
        if self.last is None:
            return self.first.fullmatch(name) is not None
        # Each piece is placed leftmost after the previous one; the last one ends the name.
        end = len(name) - self.last_width
        found = self.first.match(name, 0, end)
        if found is None:
            return False
        for piece in self.middle:
            found = piece.search(name, found.end(), end)
            if found is None:
                return False
        return self.last.fullmatch(name, end) is not None
