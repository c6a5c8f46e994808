"""Finding categories during a load: Asterisk's ``category_get_sep`` and ``does_category_match``.

:class:`CategoryIndex` answers "first category named X" and "first non-template category named X"
without scanning the whole config (Asterisk walks its list each time, which is quadratic over a
file of many headers). :class:`Filter` is a parsed ``(+name_re=value_re&...)`` option; its
regular expressions are POSIX ERE matched in linear time, and its work is charged to a
:class:`~ara_realtime.conf.posix_regex.Meter` so that a load's filters have a bounded total cost.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from ara_realtime.conf.posix_regex import Meter, Regex, RegexError, RegexLimitError, compile_ere

if TYPE_CHECKING:
    from ara_realtime.conf.model import Category, Config

__all__ = ["CategoryIndex", "Filter", "fold"]

log = logging.getLogger("ara_realtime.conf")

_BLANKS = "".join(chr(i) for i in range(33))
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """C ``strcasecmp`` folding: ASCII letters only."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


# -- filter syntax ---------------------------------------------------------------------------------


def _strip_quoted(text: str) -> str:
    """``ast_strip_quoted(s, "'\\"", "'\\"")``."""
    text = text.strip(_BLANKS)
    if text and text[0] in "'\"" and text[-1] == text[0]:
        return text[1:-1]
    return text


def _ast_strsep(text: str | None, sep: str) -> tuple[str | None, str | None]:
    """``ast_strsep(.., AST_STRSEP_STRIP)``: (token, rest); quotes and backslashes guard ``sep``."""
    if text is None:
        return None, None
    if not text:
        return "", None
    stack = [""] * 8
    inquote = 0
    cut = -1
    i, n = 0, len(text)
    while i < n:
        if text[i] == "\\":
            i += 2
            if i >= n:
                break
        ch = text[i]
        if ch in "'\"":
            if ch == stack[inquote]:
                stack[inquote] = ""
                inquote -= 1
            else:
                inquote += 1
                if inquote >= len(stack):
                    return None, None
                stack[inquote] = ch
        if ch == sep and not inquote:
            cut = i
            break
        i += 1
    if cut < 0:
        return _strip_quoted(text), None
    return _strip_quoted(text[:cut]), text[cut + 1 :]


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> Regex | RegexError:
    try:
        return compile_ere(pattern)
    except RegexLimitError as err:
        return err
    except RegexError as err:
        log.error("Regular expression '%s' failed to compile: %s", pattern, err)
        return err


_INCLUDE, _RESTRICT = "include", "restrict"


class Filter:
    """The ``match`` argument of ``does_category_match``, parsed once.

    Raises :class:`RegexLimitError` for a pattern beyond our limits; a pattern glibc refuses is
    logged and makes the filter match nothing, as in Asterisk.
    """

    __slots__ = ("never", "terms")

    def __init__(self, match: str, sep: str) -> None:
        self.terms: list[str | tuple[Regex, Regex]] = []
        self.never = False
        rest: str | None = match
        while True:
            term, rest = _ast_strsep(rest, sep)
            if term is None:
                break
            match_name, tail = _ast_strsep(term, "=")
            match_value, _ = _ast_strsep(tail, "=")
            if match_name is None or match_value is None:
                self.never = True  # Asterisk stops counting found terms: no category matches
                break
            if match_name == "TEMPLATES":
                wanted = fold(match_value)
                if wanted in (_INCLUDE, _RESTRICT):
                    self.terms.append(wanted)
                else:
                    self.never = True  # counted as an expression, never found
                continue
            name_rx, value_rx = _compiled(match_name), _compiled(match_value)
            for rx in (name_rx, value_rx):
                if isinstance(rx, RegexLimitError):
                    raise rx
            if isinstance(name_rx, RegexError) or isinstance(value_rx, RegexError):
                self.never = True
                continue
            self.terms.append((name_rx, value_rx))

    def matches(self, cat: Category, meter: Meter) -> bool:
        """Whether every term holds for ``cat`` (the name is checked by the caller)."""
        if self.never:
            return False
        template_ok = False
        for term in self.terms:
            if isinstance(term, tuple):
                name_rx, value_rx = term
                variables = cat.variables
                meter.spend(len(variables) + 1)
                if not any(
                    name_rx.search(v.name, meter) and value_rx.search(v.value, meter)
                    for v in variables
                ):
                    return False
            elif term == _INCLUDE:
                template_ok = template_ok or cat.template
            else:  # _RESTRICT
                if not cat.template:
                    return False
                template_ok = True
        return not cat.template or template_ok


class CategoryIndex:
    """Categories of a config by folded name, in order; the config only grows during a load."""

    __slots__ = ("_by_name", "_cfg", "_count", "_plain_at")

    def __init__(self, cfg: Config) -> None:
        self._cfg = cfg
        self._count = 0
        self._by_name: dict[str, list[Category]] = {}
        #: where to start looking for the first non-template category of a name ("" for all);
        #: templates only ever become templates during a load, so this only moves forward
        self._plain_at: dict[str, int] = {}

    def _candidates(self, name: str) -> list[Category]:
        cats = self._cfg._categories
        if len(cats) > self._count:
            for cat in cats[self._count :]:
                self._by_name.setdefault(fold(cat.name), []).append(cat)
            self._count = len(cats)
        if not name:  # an empty name matches every category, as in Asterisk
            return cats
        return self._by_name.get(fold(name), [])

    def first(self, name: str) -> Category | None:
        """First category named ``name``, templates included (an inheritance base)."""
        cats = self._candidates(name)
        return cats[0] if cats else None

    def first_plain(self, name: str) -> Category | None:
        """First non-template category named ``name`` (a plain ``(+)``)."""
        cats = self._candidates(name)
        key = fold(name)
        at = self._plain_at.get(key, 0)
        while at < len(cats) and cats[at].template:
            at += 1
        self._plain_at[key] = at
        return cats[at] if at < len(cats) else None

    def find(self, name: str, filt: Filter, meter: Meter) -> Category | None:
        """First category named ``name`` that ``filt`` accepts."""
        for cat in self._candidates(name):
            meter.spend(1)
            if filt.matches(cat, meter):
                return cat
        return None
