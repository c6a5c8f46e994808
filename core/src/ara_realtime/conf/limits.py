"""Every bound the ``.conf`` reader puts on its work, in one place.

The first three are Asterisk's own. The others are ours (Asterisk has none and can be made to
loop, crawl or run out of memory there); each is far above anything a real configuration needs
and turns a pathological input into a ``ConfigError`` naming the file and line instead of a hang.
``docs/conf-format.md`` ("Limits") gives the reason for each.
"""

from __future__ import annotations

__all__ = [
    "MAX_BRACE_ALTERNATIVES",
    "MAX_CATEGORY_NAME_BYTES",
    "MAX_COPIED_VARIABLES",
    "MAX_FILES_PER_LOAD",
    "MAX_FILTER_WORK",
    "MAX_INCLUDE_LEVEL",
    "MAX_INCLUDE_MATCHES",
    "MAX_LINE_BYTES",
    "MAX_NESTED_COMMENTS",
    "MAX_REGEX_NESTING",
    "MAX_REGEX_STATES",
    "MAX_VALUE_LENGTH",
]

# -- Asterisk's ----------------------------------------------------------------------------------

MAX_LINE_BYTES = 8191
"""A line of this many bytes or more (without its newline) is skipped with a warning."""
MAX_CATEGORY_NAME_BYTES = 79
"""A category name is cut to this many bytes (Asterisk's 80-byte name buffer)."""
MAX_INCLUDE_LEVEL = 10
"""Files can be nested this many ``#include`` levels below the top-level file."""
MAX_NESTED_COMMENTS = 128
"""Deepest ``;-- --;`` block-comment nesting."""

# -- ours ------------------------------------------------------------------------------------------

MAX_BRACE_ALTERNATIVES = 1024
"""Names one ``#include`` argument's ``{a,b}`` braces may expand to."""
MAX_INCLUDE_MATCHES = 10_000
"""Paths one ``#include`` glob may match (at every directory level of the pattern)."""
MAX_FILES_PER_LOAD = 100_000
"""Files one load may read; a file included again counts again, as does each ``#exec``."""
MAX_COPIED_VARIABLES = 1_000_000
"""Variables that inheritance (``[name](base)``) may copy in one load, all headers together."""
MAX_VALUE_LENGTH = 65_536
"""Longest value (in characters) that ``name += text`` may build."""
MAX_FILTER_WORK = 5_000_000
"""Work units (variables tested, characters matched, regex states visited) that ``(+filter)``
headers may spend in one load, all together."""
MAX_REGEX_STATES = 10_000
"""Largest ``(+filter)`` regular expression, in automaton states after ``{m,n}`` expansion."""
MAX_REGEX_NESTING = 100
"""Deepest parenthesis nesting in a ``(+filter)`` regular expression."""
