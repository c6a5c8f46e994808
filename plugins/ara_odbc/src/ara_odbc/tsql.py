"""Statements for Transact-SQL (SQL Server, Sybase ASE through FreeTDS): exact text comparisons.

Two T-SQL rules would break the contract's exact matching with the shared statements:

* ``=`` ignores trailing spaces (``'a' = 'a  '`` is true, whatever the collation), and so does
  ``<> ''``. Text equality is therefore ``x = ? AND LEN(x + N'.') = LEN(? + N'.')`` (``LEN``
  ignores trailing spaces; the appended character makes them count), and the empty checks use
  ``DATALENGTH(x) = 0``.
* ``[`` opens a character class in a ``LIKE`` pattern. Every ``[`` the caller did not escape is
  sent as ``\\[`` (``\\`` is the pattern's escape character), so only ``%``, ``_`` and ``\\``
  are special, as everywhere else.

Not run against a live server (none can run here); the statement tests pin the text.
"""

from __future__ import annotations

from ara_realtime.conditions import Condition
from ara_realtime.sql import Statements, TableInfo

__all__ = ["TsqlStatements", "escape_brackets"]


def escape_brackets(pattern: str) -> str:
    """``pattern`` with every unescaped ``[`` escaped (``\\[``): a literal in T-SQL's LIKE."""
    if "[" not in pattern:
        return pattern
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append("\\[" if ch == "[" else ch)
        i += 1
    return "".join(out)


def _literal_brackets(conds: tuple[Condition, ...]) -> tuple[Condition, ...]:
    if not any(c.op in ("LIKE", "NOT LIKE") and "[" in c.value for c in conds):
        return conds
    return tuple(
        c._replace(value=escape_brackets(c.value)) if c.op in ("LIKE", "NOT LIKE") else c
        for c in conds
    )


class TsqlStatements(Statements):
    """The shared statements with T-SQL's exact text equality and literal ``[`` in LIKE."""

    def _term(self, cond: Condition, flag: int, info: TableInfo) -> tuple[str, tuple[bool, ...]]:
        col, op = cond.column, cond.op
        if col not in info.text or op not in ("=", "!=", "<", "<=", ">", ">="):
            return super()._term(cond, flag, info)
        q = self.dialect.quote(col)
        p = self.dialect.placeholder
        if op in ("<", "<=", ">", ">="):
            order = info.order_exprs.get(col, q)
            enc = self.codec and col not in info.decoded
            return f"({order} {op} {p} AND DATALENGTH({q}) > 0)", (enc,)
        if flag == 1:
            if op == "=":
                return f"({q} IS NULL OR DATALENGTH({q}) = 0)", ()
            return f"({q} IS NOT NULL AND DATALENGTH({q}) > 0)", ()
        e = info.eq_exprs.get(col, q)
        enc = self.codec
        if flag == 2 and enc and col in info.decoded:
            e, enc = info.like_exprs.get(col, q), False
        exact = f"{e} = {p} AND LEN({e} + N'.') = LEN({p} + N'.')"
        if op == "=":
            return exact, (enc, enc)
        return f"({q} IS NULL OR NOT ({exact}))", (enc, enc)

    def select(
        self, info: TableInfo, conds: tuple[Condition, ...], family: str, *, multi: bool
    ) -> tuple[str, list[object]]:
        return super().select(info, _literal_brackets(conds), family, multi=multi)

    def update(
        self,
        info: TableInfo,
        conds: tuple[Condition, ...],
        values: tuple[tuple[str, str], ...],
        family: str,
    ) -> tuple[str, list[object]]:
        return super().update(info, _literal_brackets(conds), values, family)

    def delete(
        self, info: TableInfo, conds: tuple[Condition, ...], family: str
    ) -> tuple[str, list[object]]:
        return super().delete(info, _literal_brackets(conds), family)
