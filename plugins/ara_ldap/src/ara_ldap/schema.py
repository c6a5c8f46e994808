"""What the directory's subschema says about each attribute: how far the server can filter.

The driver always checks every condition exactly on the client; the server filter only narrows
the candidates, so it must never drop a row that matches exactly. Whether a server-side test is
safe depends on the attribute's matching rules and on whether it can hold several values
(several values read as one, joined with ``;``):

* equality: any equality rule finds at least the exactly equal values (a rule folds case or
  spaces on both sides alike);
* ordering and substrings: only byte-exact rules (``octetString*``, ``integerOrderingMatch``)
  on single-valued attributes; case-folding rules order and split text differently from code
  points, so ``< >`` and most of ``LIKE`` are decided on the client for them;
* integer columns are attributes of INTEGER syntax: compared and ordered numerically.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["INTEGER_SYNTAX", "AttributeInfo", "parse_attribute_types"]

INTEGER_SYNTAX = "1.3.6.1.4.1.1466.115.121.1.27"
_EXACT_EQUALITY = frozenset({"octetstringmatch", "integermatch", "2.5.13.17", "2.5.13.14"})
_EXACT_ORDERING = frozenset(
    {"octetstringorderingmatch", "integerorderingmatch", "2.5.13.18", "2.5.13.15"}
)
_EXACT_SUBSTR = frozenset({"octetstringsubstringsmatch", "2.5.13.19"})
#: Substring rules that fold case/spaces one character at a time, so a literal prefix of
#: printable ASCII (but its last character) is a safe initial substring.
_FOLDING_SUBSTR = frozenset(
    {
        "caseignoresubstringsmatch",
        "caseexactsubstringsmatch",
        "caseignoreia5substringsmatch",
        "caseexactia5substringsmatch",
        "2.5.13.4",
        "2.5.13.7",
        "1.3.6.1.4.1.1466.109.114.3",
        "1.3.6.1.4.1.4203.1.2.1",
    }
)

_TOKEN = re.compile(r"'[^']*'|\(|\)|[^\s()']+")


@dataclass(frozen=True)
class AttributeInfo:
    """The filtering abilities of one attribute type."""

    name: str
    integer: bool = False
    single: bool = False
    equality: bool = False
    #: ``=``/``!=`` on the server are exact (byte or integer equality, single-valued).
    exact_equality: bool = False
    #: ``<=``/``>=`` on the server are exact (code point or numeric order, single-valued).
    exact_ordering: bool = False
    #: Substring filters the server may apply for ``LIKE``: ``"exact"`` (every literal piece),
    #: ``"prefix"`` (the literal prefix, byte-exact), ``"folded"`` (the printable-ASCII literal
    #: prefix less its last character, under a case-folding rule) or ``""`` (none).
    substrings: str = ""
    known: bool = True


def unknown(name: str) -> AttributeInfo:
    """An attribute the directory does not define: never filtered on by the server."""
    return AttributeInfo(name, known=False)


@dataclass
class _Raw:
    oid: str
    names: list[str]
    sup: str | None = None
    equality: str | None = None
    ordering: str | None = None
    substr: str | None = None
    syntax: str | None = None
    single: bool = False


def _parse_one(text: str) -> _Raw | None:
    tokens = _TOKEN.findall(text)
    if len(tokens) < 3 or tokens[0] != "(":
        return None
    raw = _Raw(tokens[1], [])
    i = 2
    while i < len(tokens):
        word = tokens[i].upper()
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if word == "NAME":
            if nxt == "(":
                j = i + 2
                while j < len(tokens) and tokens[j] != ")":
                    raw.names.append(tokens[j].strip("'"))
                    j += 1
                i = j + 1
                continue
            raw.names.append(nxt.strip("'"))
            i += 2
            continue
        if word in ("SUP", "EQUALITY", "ORDERING", "SUBSTR", "SYNTAX"):
            value = nxt.strip("'")
            if word == "SYNTAX":
                value = value.split("{", 1)[0]
            setattr(raw, word.lower(), value)
            i += 2
            continue
        if word == "SINGLE-VALUE":
            raw.single = True
        i += 1
    return raw


def parse_attribute_types(definitions: Iterable[str]) -> dict[str, AttributeInfo]:
    """``attributeTypes`` values -> ``{lower-case name or OID: AttributeInfo}``.

    Matching rules and syntax are inherited through ``SUP``.
    """
    raws: dict[str, _Raw] = {}
    for text in definitions:
        raw = _parse_one(text)
        if raw is None:
            continue
        for key in [raw.oid, *raw.names]:
            raws[key.lower()] = raw

    def inherited(raw: _Raw, field: str) -> str | None:
        seen = 0
        while raw is not None and seen < 32:
            value = getattr(raw, field)
            if value is not None:
                return str(value)
            parent = raws.get(raw.sup.lower()) if raw.sup else None
            if parent is None:
                return None
            raw = parent
            seen += 1
        return None

    out: dict[str, AttributeInfo] = {}
    made: dict[int, AttributeInfo] = {}
    for key, raw in raws.items():
        known = made.get(id(raw))
        if known is not None:
            out[key] = known
            continue
        equality = (inherited(raw, "equality") or "").lower()
        ordering = (inherited(raw, "ordering") or "").lower()
        substr = (inherited(raw, "substr") or "").lower()
        syntax = inherited(raw, "syntax") or ""
        integer = syntax == INTEGER_SYNTAX
        substrings = ""
        if substr in _EXACT_SUBSTR and raw.single:
            substrings = "exact"
        elif substr in _EXACT_SUBSTR:
            substrings = "prefix"
        elif substr in _FOLDING_SUBSTR:
            substrings = "folded"
        out[key] = made[id(raw)] = AttributeInfo(
            name=raw.names[0] if raw.names else raw.oid,
            integer=integer,
            single=raw.single,
            equality=bool(equality),
            exact_equality=raw.single and equality in _EXACT_EQUALITY,
            exact_ordering=raw.single and ordering in _EXACT_ORDERING,
            substrings=substrings,
        )
    return out


def lookup(types: Mapping[str, AttributeInfo], name: str) -> AttributeInfo:
    """The info for attribute ``name`` (case-insensitive), or an unknown attribute."""
    return types.get(name.lower()) or unknown(name)
