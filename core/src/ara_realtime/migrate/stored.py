"""How Asterisk reads back what an import stores, by the mapping's driver and codec.

Reading a realtime row, Asterisk's ``odbc``, ``pgsql`` and ``mysql`` drivers split every
column on a raw ``;`` into several variables of that name, then undo the ``^XX`` codec in each
piece; ``ldap`` splits too (it has no codec); ``sqlite3`` and ``curl`` never split. Their
static-configuration loaders neither split nor decode. ara-realtime's SQL drivers store ``;``
as ``^3B`` when their ``codec`` setting is on (the default), as Asterisk's do.

So several lines of one option (``setvar``), joined with ``;`` into one column, come back as
those lines only where ``;`` is stored as it is and Asterisk splits on it; and a value holding
a literal ``;`` comes back whole only where it is not. An import never stores a value Asterisk
reads differently from the file: each case below is a problem naming file, line, category and
column, and the way out.

==================================== ======================= ==========================
the mapping's storage                several lines, joined   a value holding ``;``
==================================== ======================= ==========================
``;`` stored as ``^3B`` (codec on)   one value: refused      fine
``;`` as it is, Asterisk splits      the lines: fine         several values: refused
``;`` as it is, Asterisk never does  one value: refused      fine
a static-configuration table         (no such option)        refused with the codec on
==================================== ======================= ==========================

With the codec off, ``odbc``, ``pgsql`` and ``mysql`` still decode ``^`` and two hex digits
(``^41`` reads as ``A``): such a value is refused too. A driver Asterisk does not have is taken
to follow the historic contract (``;`` separates several values, as ``odbc`` reads them).
The mapping checked is the family's priority-1 one, whose connection the import writes
through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..realtime import Realtime

__all__ = ["Storage", "storage_of"]

#: Asterisk's drivers that never split a column on ``;``.
_NEVER_SPLIT = frozenset({"sqlite3", "curl"})
#: Asterisk's drivers that undo ``^XX`` in every piece they read (codec or not).
_DECODES = frozenset({"odbc", "pgsql", "mysql"})
#: Where each of those keeps its settings (ara-realtime reads the same files).
_SETTINGS_FILE = {
    "pgsql": "res_pgsql.conf",
    "odbc": "res_odbc.conf",
    "mysql": "res_config_mysql.conf",
}
_CODE = re.compile(r"\^[0-9A-Fa-f]{2}")


@dataclass(frozen=True)
class Storage:
    """How one mapping keeps values, and so how Asterisk reads them back."""

    family: str
    driver: str
    database: str
    #: ``;`` and ``^`` stored as ``^3B`` and ``^5E`` (the driver's ``codec`` capability)
    codec: bool

    @property
    def splits(self) -> bool:
        """Asterisk's driver reads a raw ``;`` in a realtime column as a value separator."""
        return self.driver.lower() not in _NEVER_SPLIT

    @property
    def lines_kept(self) -> bool:
        """Several values joined with ``;`` are read back as those values."""
        return self.splits and not self.codec

    def _label(self) -> str:
        return f"{self.driver}:{self.database}"

    def _codec_setting(self, value: str) -> str:
        where = _SETTINGS_FILE.get(self.driver.lower(), "the driver's settings")
        return f"codec = {value} for database {self.database!r} in {where}"

    def joined_problem(self, column: str, lines: list[int | None]) -> str | None:
        """Why ``column``, given on ``lines`` and joined with ``;``, would not be read back
        as those lines; ``None`` when it would."""
        if self.lines_kept:
            return None
        given = f"{column!r} is given {len(lines)} times"
        numbers = [str(n) for n in lines if n is not None]
        if numbers:
            given += f" (lines {', '.join(numbers)})"
        if not self.splits:
            return (
                f"{given}: joined with ';' into one column, Asterisk's {self.driver} driver "
                "never splits it, so it would read one value; give the option once, or keep "
                "this object in its file"
            )
        return (
            f"{given}: joined with ';' into one column, {self._label()} stores ';' as '^3B' "
            "(codec = yes), which Asterisk decodes only after splitting, so it would read one "
            f"value; give the option once, or set {self._codec_setting('no')} when no value "
            "stored there holds a literal ';'"
        )

    def value_problem(self, column: str, value: str, *, joined: bool = False) -> str | None:
        """Why a stored ``value`` of ``column`` would not be read back as it is; ``None``
        when it would. ``joined``: its ``;`` separate lines (checked by
        :meth:`joined_problem`). Never shows the value."""
        if self.codec:
            return None
        if self.splits and ";" in value and not joined:
            if self.driver.lower() in _SETTINGS_FILE:
                fix = f"set {self._codec_setting('yes')}, the default"
            else:  # ldap, or a driver Asterisk does not have: no codec to turn on
                fix = "take the ';' out, or keep this object in its file"
            return (
                f"{column}: the value holds ';', on which Asterisk's {self.driver} driver "
                f"splits a column when ';' is stored as it is ({self._label()}), so it would "
                f"read several values; {fix}"
            )
        if self.driver.lower() in _DECODES and _CODE.search(value):
            return (
                f"{column}: the value holds '^' and two hex digits, which Asterisk's "
                f"{self.driver} driver decodes on read ({self._label()} stores it as it is), "
                f"so it would read another character; set {self._codec_setting('yes')}, "
                "the default"
            )
        return None

    def static_problem(self, what: str, value: str) -> str | None:
        """Why a static-configuration row's ``value`` (``what``: its category, name or
        value) would not reach Asterisk as it is; ``None`` when it would."""
        if not self.codec or (";" not in value and "^" not in value):
            return None
        return (
            f"{what} holds ';' or '^', which {self._label()} stores as '^3B' or '^5E' "
            "(codec = yes); Asterisk's static-configuration loaders read rows as they are "
            f"stored, so it would read those codes; set {self._codec_setting('no')} (in a "
            "section of its own for this mapping when other families there need the codec)"
        )


def storage_of(rt: Realtime, family: str) -> Storage:
    """The storage of ``family``'s priority-1 mapping (opening its connection to learn its
    ``codec`` setting)."""
    mapping = min(
        (m for m in rt.mappings if m.name.lower() == family.lower()),
        key=lambda m: m.priority,
    )
    return Storage(family, mapping.driver, mapping.database, rt.capabilities(family).codec)
