"""``realtime switch``: what a look-up found in each mode, and why."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..patterns import Mode, _encode, _match_compiled
from ._context import HINT
from ._index import EARLY, NO, Index, callerid_matches
from ._spec import SwitchSpec

if TYPE_CHECKING:
    from ._engine import Match, RealtimeSwitch

__all__ = ["Candidate", "Explanation", "explain"]

_MODES: tuple[Mode, ...] = ("match", "canmatch", "matchmore")
#: candidates listed at most (the count says how many there were)
MAX_CANDIDATES = 20


@dataclass(frozen=True)
class Candidate:
    """An extension whose name matches the dialled number (match mode), in dialplan order."""

    position: int  # 1-based, in dialplan order among the priority's extensions
    exten: str
    pattern: bool
    early: bool
    #: False: its caller-ID pattern rejects the caller, so the search went on
    callerid_ok: bool


@dataclass(frozen=True)
class Explanation:
    spec: SwitchSpec
    family: str
    context: str
    exten: str
    priority: int
    callerid: str | None
    rows: int
    extensions: int
    plain: int
    patterns: int
    age: float
    results: dict[str, Match | None]
    candidates: list[Candidate]
    candidates_total: int
    why: str
    problems: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.results["match"] is not None

    def to_dict(self) -> dict[str, Any]:
        def match(m: Match | None) -> dict[str, Any] | None:
            if m is None:
                return None
            return {
                "exten": m.exten,
                "pattern": m.pattern,
                "early": m.early,
                "callerid": m.callerid,
                "row": dict(m.row),
            }

        return {
            "switch": str(self.spec),
            "family": self.family,
            "context": self.context,
            "exten": self.exten,
            "priority": "hint" if self.priority == HINT else self.priority,
            "callerid": self.callerid,
            "rows": self.rows,
            "extensions": self.extensions,
            "plain": self.plain,
            "patterns": self.patterns,
            "snapshot_age_s": round(self.age, 3),
            "results": {mode: match(m) for mode, m in self.results.items()},
            "why": self.why,
            "candidates": [c.__dict__ for c in self.candidates],
            "candidates_total": self.candidates_total,
            "problems": self.problems,
        }


def explain(
    switch: RealtimeSwitch,
    context: str,
    exten: str,
    priority: int,
    *,
    callerid: str | None,
    data: str,
) -> Explanation:
    spec = SwitchSpec.parse(data)
    ctx = spec.context_for(context)
    snapshot = switch.snapshot(spec.family, ctx)
    index = snapshot.index(priority)
    results: dict[str, Match | None] = {
        mode: switch.lookup(context, exten, priority, callerid=callerid, data=data, mode=mode)
        for mode in _MODES
    }
    data_b = _encode(exten)
    digits = data_b.replace(b"-", b"")
    candidates: list[Candidate] = []
    total = 0
    for entry in index.entries:
        if entry.is_pattern and not spec.patterns:
            break
        how = _match_compiled(entry.comp, data_b, digits, "match")
        if how == NO:
            continue
        total += 1
        if len(candidates) < MAX_CANDIDATES:
            candidates.append(
                Candidate(
                    entry.rank + 1,
                    entry.exten,
                    entry.is_pattern,
                    how == EARLY,
                    callerid_matches(entry.callerid, callerid),
                )
            )
    why = _why(spec, index, exten=exten, priority=priority, candidates=candidates, results=results)
    if results["matchmore"] is None:
        first = next(index.walk(exten, "matchmore", callerid, use_patterns=spec.patterns), None)
        if first is not None and first[1] == EARLY:
            why += (
                f" Matchmore is no: {first[0].exten!r} answers first with an early match"
                " ('!'), which tells Asterisk not to wait for more digits."
            )
    return Explanation(
        spec=spec,
        family=spec.family,
        context=ctx,
        exten=exten,
        priority=priority,
        callerid=callerid,
        rows=snapshot.rows,
        extensions=len(index),
        plain=len(index) - index.patterns,
        patterns=index.patterns,
        age=max(0.0, time.monotonic() - snapshot.loaded_at),
        results=results,
        candidates=candidates,
        candidates_total=total,
        why=why,
        problems=list(snapshot.problems),
    )


def _why(
    spec: SwitchSpec,
    index: Index,
    *,
    exten: str,
    priority: int,
    candidates: list[Candidate],
    results: dict[str, Match | None],
) -> str:
    found, more = results["match"], results["canmatch"]
    plain, patterns = len(index) - index.patterns, index.patterns
    prio = "hint" if priority == HINT else str(priority)
    if found is not None and not found.pattern:
        why = f"{found.exten!r} is a plain extension at priority {prio}: the exact row."
    elif found is not None:
        rank = next(e.rank for e in index.entries if e.exten == found.exten)
        position = rank + 1 - plain
        why = (
            f"no plain extension {exten!r} at priority {prio}; {found.exten!r} is pattern "
            f"{position} of {patterns} in dialplan order and the first that matches"
        )
        why += " (an early match, '!')." if found.early else "."
    elif not spec.patterns:
        why = f"no plain extension {exten!r} at priority {prio} (option p: no pattern search)."
    else:
        why = f"no extension at priority {prio} matches {exten!r}."
    rejected = [c.exten for c in candidates if not c.callerid_ok]
    if rejected:
        why += " Skipped for the caller ID: " + ", ".join(repr(r) for r in rejected) + "."
    if found is None and more is not None:
        why += f" More digits could match {more.exten!r}."
    return why
