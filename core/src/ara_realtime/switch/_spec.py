"""The switch's data: ``switch => Realtime/[context]@[family][/options]`` in extensions.conf."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from ..errors import QueryError

__all__ = ["DEFAULT_FAMILY", "SwitchSpec"]

log = logging.getLogger("ara_realtime.switch")

#: The family the switch reads when its data names none.
DEFAULT_FAMILY = "extensions"
_SWITCH_NAME = "realtime"


@dataclass(frozen=True)
class SwitchSpec:
    """What one ``switch => Realtime/...`` line asks for.

    ``context`` is None when the data names none: the switch then searches the context that
    holds the ``switch =>`` line (the calling context).
    """

    context: str | None = None
    family: str = DEFAULT_FAMILY
    #: False with option ``p``: plain extensions only, no pattern search
    patterns: bool = True

    @classmethod
    def parse(cls, data: str) -> SwitchSpec:
        """Parse the data after ``Realtime/``: ``[context@][family][/options]``.

        As Asterisk: split at the first ``/`` (options after it), then at the first ``@``
        (context before it, family after it); an empty context is the calling context and an
        empty family is ``extensions``. Option ``p`` turns the pattern search off; other
        letters are ignored, with a warning.

        Unlike Asterisk, a family given without ``@`` (``Realtime/mytable``) is used, not
        silently replaced by ``extensions``.
        """
        if type(data) is not str:
            raise QueryError(f"switch data must be str, not {type(data).__name__}")
        return _parse(data)

    @classmethod
    def from_switch(cls, value: str) -> SwitchSpec:
        """Parse a ``switch =>`` value such as ``Realtime/ctx@extensions/p`` (the switch name
        is case-insensitive, as in Asterisk)."""
        name, _, data = value.strip().partition("/")
        if name.strip().lower() != _SWITCH_NAME:
            raise QueryError(f"not a realtime switch: {value!r} (expected Realtime/...)")
        return cls.parse(data)

    def context_for(self, calling_context: str) -> str:
        """The context searched when the switch sits in ``calling_context``."""
        return self.context or calling_context

    def __str__(self) -> str:
        opts = "" if self.patterns else "/p"
        return f"Realtime/{self.context or ''}@{self.family}{opts}"


@lru_cache(maxsize=256)
def _parse(data: str) -> SwitchSpec:
    where, _, options = data.partition("/")
    context, at, family = where.partition("@")
    if not at:  # Asterisk ignores a family without "@"; here it is the family
        context, family = "", where
    patterns = True
    unknown = []
    for letter in options:
        if letter == "p":
            patterns = False
        else:
            unknown.append(letter)
    if unknown:
        log.warning(
            "switch Realtime/%s: unknown option%s %s ignored (only p is known)",
            data,
            "s" if len(unknown) > 1 else "",
            ", ".join(repr(u) for u in unknown),
        )
    return SwitchSpec(context or None, family or DEFAULT_FAMILY, patterns)
