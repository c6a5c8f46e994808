"""SQL statement building shared by every SQL driver, cached per table and condition shape.

The contract's value rules become SQL here, once:

* ``= ""`` matches NULL or empty; ``!= ""`` matches non-empty; ``!= v`` also matches NULL.
* ``LIKE``/``NOT LIKE`` use ``\\`` as escape; an absent value counts as ``""``.
* ``<``, ``<=``, ``>``, ``>=`` never match an absent value.
* Writing ``""`` stores NULL where the column allows it.

Statements are cached by (kind, table, shape), where the shape is the columns, operators and
the few facts about a value that change the SQL text (is it empty, does the LIKE pattern
match the empty string). Values are always bound parameters.

A driver whose engine needs it may give, per column, the SQL expression each kind of
comparison uses (``TableInfo.eq_exprs``, ``like_exprs``, ``order_exprs``): a cast for enum
columns, an exact collation, the ``^XX`` decoding for LIKE and ordering. Equality against an
expression that defeats the column's index can be preceded by a plain, index-served term
(``TableInfo.assisted``). Values compared with a decoding expression are bound as given; every
other value is ``^XX``-encoded when the codec is on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ..conditions import Condition, like_matches_empty
from ..errors import QueryError
from .codec import encode

__all__ = ["Dialect", "Statements", "TableInfo"]


@dataclass(frozen=True)
class Dialect:
    """How one SQL engine spells the few things that differ."""

    #: Quote one identifier.
    quote: Callable[[str], str]
    #: Placeholder for one bound parameter (``?`` or ``%s``).
    placeholder: str = "?"
    #: Text after a LIKE operand making ``\\`` the escape character.
    like_escape: str = " ESCAPE '\\'"
    #: Appended to a single-row SELECT.
    limit_one: str = " LIMIT 1"
    #: Inserted after ``SELECT`` in a single-row SELECT (SQL Server, Sybase: ``"TOP 1 "``).
    top_one: str = ""
    #: Appended after the ORDER BY column so that absent values sort first.
    nulls_first: str = ""


@dataclass
class TableInfo:
    """What a driver knows about one table, read once and cached until ``unload``."""

    name: str
    #: Column names in table order.
    columns: tuple[str, ...]
    #: Columns that hold text (others are compared without the ``''`` checks).
    text: frozenset[str] = frozenset()
    #: Columns that accept NULL.
    nullable: frozenset[str] = frozenset()
    #: What ``SELECT`` lists (a driver may cast columns to text here); ``*`` by default.
    select_list: str = "*"
    #: Extra per-driver facts (types, sizes) for ``require``.
    extra: dict[str, object] = field(default_factory=dict)
    #: Expression per column for ``=``, ``!=`` and the empty-value checks (default: the name).
    eq_exprs: Mapping[str, str] = field(default_factory=dict)
    #: Expression per column for ``LIKE``/``NOT LIKE``.
    like_exprs: Mapping[str, str] = field(default_factory=dict)
    #: Expression per column for ``<``, ``<=``, ``>``, ``>=`` and ``ORDER BY``.
    order_exprs: Mapping[str, str] = field(default_factory=dict)
    #: Columns whose ``eq_exprs`` entry defeats their index: ``=`` first adds ``name = ?``.
    assisted: frozenset[str] = frozenset()
    #: Columns whose ``like_exprs``/``order_exprs`` decode ``^XX`` (their operands not encoded).
    decoded: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.column_set = frozenset(self.columns)

    def check(self, columns: Sequence[str], family: str) -> None:
        """Raise ``QueryError`` naming family, table and column for an unknown column."""
        known = self.column_set
        for column in columns:
            if column not in known:
                raise QueryError(
                    f"family {family!r}: table {self.name!r} has no column {column!r}",
                    family=family,
                    table=self.name,
                    field=column,
                )


def _flag(cond: Condition) -> int:
    """The one fact about a value that changes the SQL text.

    ``=``/``!=``: 1 if the value is empty, 2 if it holds ``;`` or ``^`` (the ``^XX`` codec may
    compare it decoded), else 0. ``LIKE``: does the pattern match the empty string.
    """
    op = cond.op
    if op == "=" or op == "!=":  # noqa: PLR1714  (faster than a set on the hot path)
        value = cond.value
        if not value:
            return 1
        return 2 if (";" in value or "^" in value) else 0
    if op == "LIKE" or op == "NOT LIKE":  # noqa: PLR1714
        return like_matches_empty(cond.value)
    return False


def _shape(conds: tuple[Condition, ...]) -> tuple[object, ...]:
    """The cache key part of a condition list: columns, operators, value flags."""
    if len(conds) == 1:
        c = conds[0]
        return (c.column, c.op, _flag(c))
    return tuple((c.column, c.op, _flag(c)) for c in conds)


#: How a statement binds its parameters: ``(condition index, encode)`` per placeholder.
Plan = tuple[tuple[int, bool], ...]


class Statements:
    """Builds and caches SQL text for one driver connection (dialect + quoted table names)."""

    def __init__(self, dialect: Dialect, *, codec: bool = False) -> None:
        self.dialect = dialect
        self.codec = codec
        self._cache: dict[tuple[object, ...], tuple[str, Plan]] = {}
        #: (table, column) -> (SQL, placeholders) of ``load`` by one plain equality (a value
        #: without ``;`` or ``^``, so bound as it is): the hot path's only look-up
        self._point: dict[tuple[str, str], tuple[str, int]] = {}
        #: (table, key column, set column) -> (SQL, placeholders of the key) of ``update`` of
        #: one column by one plain equality, both values bound as they are (no ``;``/``^``,
        #: not empty): the write hot path's only look-up
        self._point_update: dict[tuple[str, str, str], tuple[str, int]] = {}

    def clear(self, table: str | None = None) -> None:
        """Forget cached statements (of one table, or all)."""
        if table is None:
            self._cache.clear()
            self._point.clear()
            self._point_update.clear()
        else:
            for key in [k for k in self._cache if k[1] == table]:
                del self._cache[key]
            for point in [k for k in self._point if k[0] == table]:
                del self._point[point]
            for point_update in [k for k in self._point_update if k[0] == table]:
                del self._point_update[point_update]

    # -- WHERE ------------------------------------------------------------------------------

    def _term(self, cond: Condition, flag: int, info: TableInfo) -> tuple[str, tuple[bool, ...]]:
        """One condition as SQL, and per placeholder it adds whether the value is encoded."""
        d = self.dialect
        col = cond.column
        q = d.quote(col)
        p = d.placeholder
        text = col in info.text
        op = cond.op
        enc = self.codec
        if op == "=" or op == "!=":  # noqa: PLR1714
            e = info.eq_exprs.get(col, q)
            if flag == 2 and enc and col in info.decoded:
                # ";" or "^" in the value: compare decoded, so "^3b" written by others matches
                e, enc = info.like_exprs.get(col, q), False
            if op == "=":
                if flag == 1:
                    return (f"({q} IS NULL OR {e} = '')" if text else f"{q} IS NULL"), ()
                if col in info.assisted and enc == self.codec:
                    return f"{q} = {p} AND {e} = {p}", (enc, enc)
                return f"{e} = {p}", (enc,)
            if flag == 1:
                return (f"({q} IS NOT NULL AND {e} <> '')" if text else f"{q} IS NOT NULL"), ()
            return f"({q} IS NULL OR {e} <> {p})", (enc,)
        enc = enc and col not in info.decoded
        if op in ("LIKE", "NOT LIKE"):
            e = info.like_exprs.get(col, q)
            like = f"{e} {op} {p}{d.like_escape}"
            if (op == "LIKE") == flag:  # absent ("") satisfies the condition
                return f"({q} IS NULL OR {like})", (enc,)
            return like, (enc,)
        sql = f"{info.order_exprs.get(col, q)} {op} {p}"
        return (f"({sql} AND {info.eq_exprs.get(col, q)} <> '')" if text else sql), (enc,)

    def _where(self, conds: tuple[Condition, ...], info: TableInfo) -> tuple[str, Plan]:
        terms = []
        plan: list[tuple[int, bool]] = []
        for i, cond in enumerate(conds):
            term, binds = self._term(cond, _flag(cond), info)
            terms.append(term)
            plan.extend((i, b) for b in binds)
        return " AND ".join(terms), tuple(plan)

    @staticmethod
    def _params(conds: tuple[Condition, ...], plan: Plan) -> list[object]:
        if len(plan) == 1:  # the common single-condition lookup
            i, enc = plan[0]
            value = conds[i].value
            return [encode(value) if enc else value]
        return [encode(conds[i].value) if enc else conds[i].value for i, enc in plan]

    # -- statements -------------------------------------------------------------------------

    def select(
        self, info: TableInfo, conds: tuple[Condition, ...], family: str, *, multi: bool
    ) -> tuple[str, list[object]]:
        """``SELECT`` for ``load`` (one row) or ``load_multi`` (ordered).

        Columns are checked against ``info`` when the statement is first built (a cache hit
        implies the same, already checked, columns).
        """
        if not multi and len(conds) == 1:
            column, op, value = conds[0]
            if op == "=" and value and ";" not in value and "^" not in value:
                point = self._point.get((info.name, column))
                if point is not None:
                    return point[0], [value] * point[1]
        key = ("select" if multi else "select1", info.name, _shape(conds))
        hit = self._cache.get(key)
        if hit is None:
            info.check([c.column for c in conds], family)
            where, binds = self._where(conds, info)
            d = self.dialect
            top = "" if multi else d.top_one
            sql = f"SELECT {top}{info.select_list} FROM {d.quote(info.name)} WHERE {where}"
            if multi:
                first = conds[0].column
                order = info.order_exprs.get(first, d.quote(first))
                sql += f" ORDER BY {order}{d.nulls_first}"
            else:
                sql += d.limit_one
            hit = self._cache[key] = (sql, binds)
            c = conds[0]
            if not multi and len(conds) == 1 and c.op == "=" and _flag(c) == 0:
                self._point[(info.name, c.column)] = (sql, len(binds))
        return hit[0], self._params(conds, hit[1])

    def _set_values(self, info: TableInfo, values: tuple[tuple[str, str], ...]) -> list[object]:
        out: list[object] = []
        for column, value in values:
            if value == "" and column in info.nullable:
                out.append(None)
            else:
                out.append(encode(value) if self.codec else value)
        return out

    def update(
        self,
        info: TableInfo,
        conds: tuple[Condition, ...],
        values: tuple[tuple[str, str], ...],
        family: str,
    ) -> tuple[str, list[object]]:
        """``UPDATE ... SET ... WHERE ...``."""
        plain = False
        if len(conds) == 1 and len(values) == 1:
            cond = conds[0]
            column, value = values[0]
            plain = (
                cond.op == "="
                and _flag(cond) == 0
                and value != ""
                and ";" not in value
                and "^" not in value
            )
            if plain:
                point = self._point_update.get((info.name, cond.column, column))
                if point is not None:
                    return point[0], [value, *[cond.value] * point[1]]
        cols = tuple(c for c, _ in values)
        key = ("update", info.name, cols, _shape(conds))
        hit = self._cache.get(key)
        if hit is None:
            info.check([c.column for c in conds], family)
            info.check(cols, family)
            d = self.dialect
            where, binds = self._where(conds, info)
            sets = ", ".join(f"{d.quote(c)} = {d.placeholder}" for c in cols)
            hit = self._cache[key] = (
                f"UPDATE {d.quote(info.name)} SET {sets} WHERE {where}",
                binds,
            )
        if plain:
            self._point_update[(info.name, conds[0].column, cols[0])] = (hit[0], len(hit[1]))
        return hit[0], [*self._set_values(info, values), *self._params(conds, hit[1])]

    def insert(
        self, info: TableInfo, values: tuple[tuple[str, str], ...], family: str
    ) -> tuple[str, list[object]]:
        """``INSERT INTO ... (...) VALUES (...)``."""
        cols = tuple(c for c, _ in values)
        key = ("insert", info.name, cols)
        hit = self._cache.get(key)
        if hit is None:
            info.check(cols, family)
            d = self.dialect
            names = ", ".join(d.quote(c) for c in cols)
            marks = ", ".join(d.placeholder for _ in cols)
            hit = self._cache[key] = (
                f"INSERT INTO {d.quote(info.name)} ({names}) VALUES ({marks})",
                (),
            )
        return hit[0], self._set_values(info, values)

    def delete(
        self, info: TableInfo, conds: tuple[Condition, ...], family: str
    ) -> tuple[str, list[object]]:
        """``DELETE FROM ... WHERE ...``."""
        key = ("delete", info.name, _shape(conds))
        hit = self._cache.get(key)
        if hit is None:
            info.check([c.column for c in conds], family)
            where, binds = self._where(conds, info)
            hit = self._cache[key] = (
                f"DELETE FROM {self.dialect.quote(info.name)} WHERE {where}",
                binds,
            )
        return hit[0], self._params(conds, hit[1])

    def static(self, table: str, info: TableInfo | None = None, select: str | None = None) -> str:
        """The static-configuration SELECT, in the contract's order.

        With ``info``, ``category`` and ``var_name`` are ordered by their ``order_exprs``;
        ``select`` replaces the list of the five columns (a driver may decode or coalesce).
        """
        key = ("static", table, select)
        hit = self._cache.get(key)
        if hit is None:
            d = self.dialect
            q = d.quote
            order = info.order_exprs if info is not None else {}
            category = order.get("category", q("category"))
            var_name = order.get("var_name", q("var_name"))
            if select is None:
                select = (
                    f"{q('category')}, {q('var_name')}, {q('var_val')}, "
                    f"{q('cat_metric')}, {q('var_metric')}"
                )
            sql = (
                f"SELECT {select} FROM {q(table)} "
                f"WHERE {q('filename')} = {d.placeholder} AND {q('commented')} = 0 "
                # a NULL metric is 0 (as the rows hand it over), also for the order:
                # PostgreSQL would put NULL first in a DESC order, MySQL and SQLite last
                f"ORDER BY COALESCE({q('cat_metric')}, 0) DESC, "
                f"COALESCE({q('var_metric')}, 0) ASC, "
                f"{category}, {var_name}"
            )
            hit = self._cache[key] = (sql, ())
        return hit[0]
