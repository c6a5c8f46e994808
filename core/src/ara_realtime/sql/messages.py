"""Server error texts made fit for ``QueryError``/``BackendError``: one line, no values.

Database servers quote the offending value in many messages (``Duplicate entry 'alice' for
key 'name'``, ``invalid input syntax for type integer: "s3cret"``, PostgreSQL's ``DETAIL: Key
(name)=(alice) already exists.``). ara-realtime promises that errors never carry written values,
so every quoted part that is not a known identifier (the table, its columns, a constraint the
driver names) is replaced by ``…``, and everything after the first line is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Collection

__all__ = ["REDACTED", "one_line", "scrub"]

#: What a value is replaced by.
REDACTED = "…"

# a run in single, double or back quotes, the quote doubled inside; an unterminated one runs to
# the end of the text (a value holding a quote must not leak its tail)
_QUOTED = re.compile(r"'(?:[^']|'')*(?:'|$)|\"(?:[^\"]|\"\")*(?:\"|$)|`(?:[^`]|``)*(?:`|$)")
# PostgreSQL's key detail, "(name)=(alice)", when a driver passes it on
_KEY_VALUE = re.compile(r"\)=\(.*?\)(?= |$)")


def one_line(text: str) -> str:
    """The first line of ``text``, whitespace folded (details, hints and statements dropped)."""
    first = text.strip().split("\n", 1)[0]
    return " ".join(first.split())


def scrub(text: str, known: Collection[str] = ()) -> str:
    """``text`` as one line with every quoted value replaced by ``…``.

    A quoted part that equals one of ``known`` (identifiers the message may name), or is a
    dotted path of them, is kept.
    """
    line = one_line(text)

    def keep_or_redact(m: re.Match[str]) -> str:
        quoted = m.group(0)
        quote = quoted[0]
        inner = quoted[1:-1] if len(quoted) > 1 and quoted[-1] == quote else quoted[1:]
        if inner and all(part in known for part in inner.split(".")):
            return quoted
        return f"{quote}{REDACTED}{quote}"

    return _KEY_VALUE.sub(f")=({REDACTED})", _QUOTED.sub(keep_or_redact, line))
