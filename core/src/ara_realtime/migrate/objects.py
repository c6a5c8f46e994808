"""Peers, endpoints, mailboxes and queues from static files into their families' rows, and
back (``realtime import KIND FILE`` / ``realtime export KIND``).

A *kind* (:mod:`.kinds`) knows one file: which categories are objects, which table each goes
to, how its options become columns. What all kinds share is here:

* options become columns by name (a kind may rename some); an option given several times
  keeps its last value, as the modules apply them in order, except list options (joined with
  ``,``, as the modules read them) and the few options that really are several lines
  (``setvar``: joined with ``;``, Asterisk's realtime separator for several values, where
  the mapping stores ``;`` so that Asterisk splits on it: :mod:`.stored`);
* a value Asterisk's driver would read back differently from the file (several lines joined
  where ``;`` is stored as ``^3B``, a literal ``;`` where it is stored as it is) stops the
  import (:func:`storage_problems`);
* templates and inheritance are already resolved by the parser (a category's variables
  include the copies it inherited);
* an option with no column is reported with its file and line, never dropped silently: it
  stops the import unless ``drop_unknown`` is given (then it is reported and left out); a
  value a column cannot take (not a number, not one of an enumeration's labels) always
  stops it; a value longer than Asterisk's column is reported;
* where a table reads two options in column order and the file had them the other way round
  (``deny`` before ``permit``: an ACL's meaning depends on the order), the import stops.

Writing is all or nothing: rows whose keys already exist stop the import unless ``replace``
is given (then they are kept aside and deleted first); every row is then stored and read back;
on any failure the new rows are deleted and the replaced ones stored again, and what could not
be undone is named in the error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, types

from ..conf import Category, Config
from ..errors import BackendError, ConfigError, NotSupported, QueryError, RealtimeError
from ..realtime import Realtime
from ..schema import table_for
from .stored import Storage, storage_of

__all__ = [
    "ObjectPlan",
    "Outcome",
    "Problem",
    "Record",
    "Rules",
    "names",
    "row_from",
    "run_import",
    "storage_problems",
]

#: Called with the number of rows just written (a progress bar's ``advance``).
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Problem:
    """Something the import cannot do as the file says, with where the file says it."""

    where: str
    message: str
    #: ``error`` stops the import; ``unknown`` stops it unless unknown options are dropped;
    #: ``warning`` is only reported
    level: str = "error"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Record:
    """One row to write."""

    family: str
    #: the columns that identify the row (``name``; ``context`` and ``mailbox``; ...)
    key: tuple[str, ...]
    values: dict[str, str]
    #: ``file:line [category]`` it came from
    origin: str = ""
    #: column -> ``file:line: [category]`` of the line that gave it, where known
    places: dict[str, str] = field(default_factory=dict)
    #: column -> the line numbers of an option given several times and joined with ";"
    joined: dict[str, list[int | None]] = field(default_factory=dict)
    #: a row to make sure of: one with its key already there is kept as it is (neither a
    #: clash nor replaced)
    keep_existing: bool = False

    @property
    def key_values(self) -> tuple[str, ...]:
        return tuple(self.values.get(k, "") for k in self.key)


@dataclass
class ObjectPlan:
    """What an import writes, and what it found on the way."""

    kind: str
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: categories that are not objects, and why (``[general]``: the module's own settings)
    skipped: list[str] = field(default_factory=list)

    @property
    def families(self) -> list[str]:
        return list(dict.fromkeys(r.family for r in self.records))

    def blocking(self, drop_unknown: bool = False) -> list[Problem]:
        """The problems that stop the import."""
        stop = {"error"} if drop_unknown else {"error", "unknown"}
        return [p for p in self.problems if p.level in stop]


@dataclass(frozen=True)
class Rules:
    """How a table takes a category's options."""

    #: option (lower case) -> column, where they differ
    rename: Mapping[str, str] = field(default_factory=dict)
    #: options whose lines join with "," (the module reads a comma list)
    lists: frozenset[str] = frozenset()
    #: options whose lines join with ";" (Asterisk's realtime separator for several values)
    multi: frozenset[str] = frozenset()
    #: columns the file cannot set (keys, numbering, what the module writes at run time)
    internal: frozenset[str] = frozenset()
    #: column pairs the module reads in table order where order matters (``permit``, ``deny``)
    ordered: tuple[tuple[str, str], ...] = ()
    #: turn option names into column names (queues.conf: "-" -> "_")
    normalize: Callable[[str], str] = str.lower


def where(var_file: str | None, lineno: int | None, category: str) -> str:
    place = var_file or "?"
    if lineno is not None:
        place += f":{lineno}"
    return f"{place}: [{category}]"


def row_from(
    cat: Category,
    table: Table,
    rules: Rules,
    problems: list[Problem],
    *,
    skip: Iterable[str] = (),
    places: dict[str, str] | None = None,
    joined: dict[str, list[int | None]] | None = None,
) -> dict[str, str]:
    """The columns ``cat``'s options give (without keys): see the module's description.

    Problems go to ``problems``; ``skip`` names options the caller handles itself. ``places``
    receives where each column's (last) line is, ``joined`` the lines of each option given
    several times and joined with ``;`` (what :mod:`.stored` checks against the storage).
    """
    skipped = {s.lower() for s in skip}
    values: dict[str, list[str]] = {}
    lines: dict[str, list[tuple[str | None, int | None]]] = {}
    order: list[str] = []
    for var in cat.variables:
        option = var.name.lower()
        if option in skipped:
            continue
        column = rules.rename.get(option) or rules.normalize(var.name)
        here = where(var.file, var.lineno, cat.name)
        if column not in table.columns or column in rules.internal:
            problems.append(
                Problem(here, f"option {var.name!r} has no column in {table.name}", "unknown")
            )
            continue
        values.setdefault(column, []).append(var.value)
        lines.setdefault(column, []).append((var.file, var.lineno))
        order.append(column)
    for first, second in rules.ordered:
        seen = [c for c in order if c in (first, second)]
        if second in seen and first in seen[seen.index(second) :]:
            problems.append(
                Problem(
                    where(cat.file, cat.lineno, cat.name),
                    f"{second!r} lines come before {first!r} lines, but the table holds "
                    f"{first!r} first and the module applies them in that order, which changes "
                    "their meaning",
                )
            )
    out: dict[str, str] = {}
    for column in names(table):
        given = values.get(column)
        if not given:
            continue
        option = column
        if option in rules.lists:
            value = ",".join(given)
        elif option in rules.multi:
            if len(given) > 1 and any(";" in v for v in given):
                problems.append(
                    Problem(
                        where(*lines[column][-1], cat.name),
                        f"{column!r} is given {len(given)} times and a value holds ';', the "
                        "separator of several values in one column",
                    )
                )
            value = ";".join(given)
            if len(given) > 1 and joined is not None:
                joined[column] = [n for _, n in lines[column]]
        else:
            value = given[-1]
        file, line = lines[column][-1]
        here = where(file, line, cat.name)
        if places is not None:
            places[column] = here
        out[column] = check_value(table, column, value, problems, here)
    return out


def storage_problems(rt: Realtime, records: Iterable[Record], problems: list[Problem]) -> None:
    """A problem for each value Asterisk would read differently from what the file says,
    given how each record's mapping stores it (:mod:`.stored`)."""
    storages: dict[str, Storage] = {}
    for r in records:
        if not rt.is_mapped(r.family):
            continue  # a problem of its own already
        storage = storages.get(r.family)
        if storage is None:
            storage = storages[r.family] = storage_of(rt, r.family)
        for column, value in r.values.items():
            here = r.places.get(column, r.origin)
            lines = r.joined.get(column)
            if lines is not None and value.count(";") != len(lines) - 1:
                continue  # a line holds ";" itself: reported by row_from
            message = None
            if lines is not None:
                message = storage.joined_problem(column, lines)
            message = message or storage.value_problem(column, value, joined=lines is not None)
            if message is not None:
                problems.append(Problem(here, message))


def check_value(table: Table, column: str, value: str, problems: list[Problem], here: str) -> str:
    """``value`` as ``column`` can hold it, with a problem where it cannot (an enumeration's
    label in another letter case is taken as that label: modules read them in any case).

    Problems name the column and the place, never the value (it may be a secret)."""
    t: Any = table.columns[column].type
    if isinstance(t, types.Enum):
        if value in t.enums:
            return value
        folded = [e for e in t.enums if e.lower() == value.lower()]
        if folded:
            problems.append(
                Problem(here, f"{column}: written as the label {folded[0]!r}", "warning")
            )
            return folded[0]
        problems.append(
            Problem(here, f"{column}: the value is not one of {', '.join(t.enums)} ({t.name})")
        )
    elif isinstance(t, types.Integer):
        try:
            int(value)
        except ValueError:
            problems.append(Problem(here, f"{column}: the value is not a whole number"))
    elif isinstance(t, (types.Float, types.Numeric)):
        try:
            float(value)
        except ValueError:
            problems.append(Problem(here, f"{column}: the value is not a number"))
    elif isinstance(t, types.String) and t.length is not None and len(value) > t.length:
        problems.append(
            Problem(
                here,
                f"{column} is {len(value)} characters long; Asterisk's column holds "
                f"{t.length} (a table made by realtime schema refuses it on PostgreSQL and "
                "MySQL)",
                "warning",
            )
        )
    return value


def key_problem(records: Sequence[Record], problems: list[Problem], what: str) -> None:
    """A key given twice: the module keeps the last definition, and so does the import."""
    seen: dict[tuple[str, tuple[str, ...]], Record] = {}
    for r in records:
        k = (r.family, r.key_values)
        if k in seen:
            problems.append(
                Problem(
                    r.origin,
                    f"{what} {'/'.join(r.key_values)!r} is defined again (first at "
                    f"{seen[k].origin}); the last definition is kept, as the module does",
                    "warning",
                )
            )
        seen[k] = r


def last_definitions(records: list[Record]) -> list[Record]:
    """Each key's last record, in the order of their last definitions."""
    last: dict[tuple[str, tuple[str, ...]], Record] = {}
    for r in records:
        k = (r.family, r.key_values)
        last.pop(k, None)
        last[k] = r
    return list(last.values())


# -- writing ----------------------------------------------------------------------------------


def _existing(rt: Realtime, family: str, key: tuple[str, ...]) -> list[dict[str, str]]:
    """Every row of ``family`` (the key's first column is never empty)."""
    return rt.load_multi(family, (f"{key[0]} !=", ""))


@dataclass
class Outcome:
    """What :func:`run_import` did (filled in as it goes, so a caller still has it when the
    import fails)."""

    #: family -> rows stored
    stored: dict[str, int] = field(default_factory=dict)
    #: family -> rows to make sure of (:attr:`Record.keep_existing`) that were there already
    kept: dict[str, int] = field(default_factory=dict)
    #: on failure: the object whose write failed (``file:line: [category]``), if one did
    failed_at: str | None = None
    #: on failure: ``True`` when everything written was undone (the tables are as they were)
    restored: bool | None = None
    #: on failure: the undo steps that failed
    left: list[str] = field(default_factory=list)


def run_import(
    rt: Realtime,
    plan: ObjectPlan,
    *,
    replace: bool = False,
    drop_unknown: bool = False,
    progress: Progress | None = None,
    number: Callable[[Record, dict[str, list[dict[str, str]]]], None] | None = None,
    outcome: Outcome | None = None,
) -> Outcome:
    """Write ``plan``'s records all or nothing (see the module's description); what was done.

    ``number`` may fill in values that depend on the rows already there (queue members'
    ``uniqueid``), given each record and the rows of every family. ``outcome``, when given,
    is filled in (and returned), also when the import fails.

    :raises ConfigError: a blocking problem (all of them listed), or rows that already exist
        without ``replace`` (nothing is written).
    :raises RealtimeError: what the storage raised (of the same class), its message naming
        the object whose write failed and saying that everything was undone, or what could
        not be.
    """
    done = outcome if outcome is not None else Outcome()
    blocking = plan.blocking(drop_unknown)
    if blocking:
        raise ConfigError(
            f"{len(blocking)} problem(s) stop the import:\n" + "\n".join(map(str, blocking))
        )
    existing: dict[str, list[dict[str, str]]] = {}
    keys = {r.family: r.key for r in plan.records}
    for family, key in keys.items():
        existing[family] = _existing(rt, family, key)
    clashes: list[tuple[Record, dict[str, str]]] = []
    records: list[Record] = []
    for r in plan.records:
        there = [row for row in existing[r.family] if _key_of(row, r.key) == r.key_values]
        if there and r.keep_existing:
            done.kept[r.family] = done.kept.get(r.family, 0) + 1
            continue
        records.append(r)
        clashes.extend((r, row) for row in there)
    if clashes and not replace:
        names = ", ".join(f"{r.family} {'/'.join(r.key_values)}" for r, _ in clashes[:10])
        more = f" and {len(clashes) - 10} more" if len(clashes) > 10 else ""
        raise ConfigError(
            f"{len(clashes)} row(s) already exist: {names}{more}; replace them with --replace"
        )
    if number is not None:
        for r in records:
            number(r, existing)
    undo: list[tuple[str, Callable[[], object]]] = []
    current: Record | None = None
    stored = removed = 0
    try:
        for r, row in clashes:
            current = r
            rt.destroy(r.family, r.key[0], r.key_values[0], *zip(r.key[1:], r.key_values[1:]))
            removed += 1
            undo.append(
                (f"store {r.family} {'/'.join(r.key_values)} again", _storer(rt, r.family, row))
            )
        for r in records:
            current = r
            rt.store(r.family, r.values)
            stored += 1
            undo.append((f"delete {r.family} {'/'.join(r.key_values)}", _destroyer(rt, r)))
            if progress is not None:
                progress(1)
        current = None
        for family, key in keys.items():
            rows = {_key_of(row, key): row for row in _existing(rt, family, key)}
            for r in records:
                if r.family == family:
                    got = rows.get(r.key_values, {})
                    if any(got.get(c, "") != v for c, v in r.values.items()):
                        raise ConfigError(
                            f"{r.origin}: {family} {'/'.join(r.key_values)} did not read back as "
                            "written (is a column too short, or does the table change values?)"
                        )
    except RealtimeError as exc:
        for what, step in reversed(undo):
            try:
                step()
            except RealtimeError as again:
                done.left.append(f"{what} ({again})")
        done.restored = not done.left
        message = str(exc)
        if current is not None:
            done.failed_at = current.origin
            doing = "deleting the row it replaces in" if removed < len(clashes) else "storing"
            message = (
                f"{current.origin}: {doing} {current.family} {'/'.join(current.key_values)}: "
                f"{message}"
            )
        if done.left:
            raise BackendError(
                f"{message}; undoing the import failed for: {'; '.join(done.left)}; the tables "
                "are not as they were",
                failures=getattr(exc, "failures", ()),
            ) from exc
        undone = [f"the {stored} row(s) written were deleted"] if stored else []
        undone += [f"the {removed} replaced row(s) stored again"] if removed else []
        raise _again(
            exc,
            f"{message}; nothing was imported"
            + (f" ({' and '.join(undone)})" if undone else "")
            + ": the tables are as they were",
        ) from exc
    for r in records:
        done.stored[r.family] = done.stored.get(r.family, 0) + 1
    return done


def _key_of(row: Mapping[str, str], key: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(row.get(k, "") for k in key)


def _again(exc: RealtimeError, message: str) -> RealtimeError:
    """An error of ``exc``'s class (so callers and exit statuses treat it alike) saying
    ``message``."""
    if isinstance(exc, BackendError):
        return BackendError(message, failures=exc.failures)
    if isinstance(exc, QueryError):
        return QueryError(message, family=exc.family, table=exc.table, field=exc.field)
    if isinstance(exc, NotSupported):
        return NotSupported(message)
    if isinstance(exc, ConfigError):
        return ConfigError(message)
    return RealtimeError(message)


def _storer(rt: Realtime, family: str, row: dict[str, str]) -> Callable[[], object]:
    return lambda: rt.store(family, row)


def _destroyer(rt: Realtime, r: Record) -> Callable[[], object]:
    extra = tuple(zip(r.key[1:], r.key_values[1:]))
    return lambda: rt.destroy(r.family, r.key[0], r.key_values[0], *extra)


# -- export -----------------------------------------------------------------------------------


def rows_of(
    rt: Realtime, family: str, key: tuple[str, ...], order: str | None = None
) -> list[dict[str, str]]:
    """Every row of ``family``, ordered by ``order`` (a numeric column) or by the key."""
    if order is not None:
        return rt.load_multi(family, (f"{order} >=", "0"))
    return _existing(rt, family, key)


def add_options(
    cfg: Config,
    name: str,
    row: Mapping[str, str],
    table: Table,
    rules: Rules,
    *,
    first: Sequence[tuple[str, str]] = (),
    option: Callable[[str], str] = str,
    split: bool = True,
) -> Category:
    """A category ``name`` holding ``first`` then one line per column of ``row`` (``multi``
    columns split back into their lines when ``split``: where Asterisk reads them as several
    values, :attr:`.Storage.lines_kept`), in table order, without keys and internal columns."""
    cat = cfg.add_category(name)
    for var, value in first:
        cat.append(var, value)
    for column in names(table):
        value = row.get(column, "")
        if not value or column in rules.internal:
            continue
        pieces = value.split(";") if split and column in rules.multi else [value]
        for piece in pieces:
            cat.append(option(column), piece)
    return cat


def definition(family: str) -> Table:
    """The table definition of ``family``."""
    return table_for(family)


def names(table: Table) -> list[str]:
    """The table's column names, in order."""
    return [c.name for c in table.columns]
