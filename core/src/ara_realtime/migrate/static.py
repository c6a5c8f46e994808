"""``.conf`` files into the static-configuration table and back (``realtime config import`` /
``realtime config export``), through the public API and whatever driver the file's mapping
names.

Import is all or nothing. The new rows are written under a staging file name nobody loads,
read back and checked; then each file is switched over with two single-statement updates (the
old rows renamed away, the new rows renamed in) and loaded back through
:meth:`~ara_realtime.Realtime.load_config`, which must give what the file gives; only then are
the old rows deleted. Any failure before that puts every file back as it was (old rows renamed
back, new rows deleted) and raises; what could not be undone (the storage went away in the
middle) is named in the error. Between the two updates of a switch a reader finds no rows for
the file: reload Asterisk after the import, not during it.

Asterisk's static loaders read rows as they are stored: where the mapping's codec is on
(``;`` and ``^`` stored as ``^3B`` and ``^5E``), a file holding either stops the import
before anything is written (:mod:`.stored`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..conf import Category, Config
from ..errors import BackendError, ConfigError, RealtimeError
from ..realtime import Realtime
from ..static import build_config
from .layout import (
    Include,
    Part,
    Restored,
    StaticRecord,
    _category,
    parts_from_rows,
    parts_key,
    rows_for,
)
from .objects import _again
from .stored import storage_of

__all__ = [
    "FilePlan",
    "ImportPlan",
    "Progress",
    "export_text",
    "import_plan",
    "run_import",
    "text_of",
    "visible",
]

#: Called with the number of rows just written (a progress bar's ``advance``).
Progress = Callable[[int], None]

_GLOB = frozenset("*?[{")


@dataclass
class FilePlan:
    """One file to write: its rows and what loading them must give."""

    #: the ``filename`` column (the name Asterisk loads it by)
    name: str
    #: the mapping its rows go through (the file's own, or ``global``)
    family: str
    source: Path
    parts: list[Part]
    rows: list[StaticRecord]
    #: the file as Asterisk reads it from disk (templates included, includes followed)
    expected: Config


@dataclass
class ImportPlan:
    """Everything an import writes, checked before anything is written."""

    files: list[FilePlan]
    #: included files left on disk (not mapped to a table), and other remarks
    notes: list[str] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return sum(len(f.rows) for f in self.files)


def visible(cfg: Config) -> list[tuple[str, list[tuple[str, str]]]]:
    """What modules see of a config: its categories without templates, with their variables.

    A table never gives templates to a loader (nor does a file give them to a module), so
    this is what loading the rows back must equal."""
    return [(c.name, c.items()) for c in cfg]


def _family(rt: Realtime, name: str) -> str | None:
    if rt.is_mapped(name):
        return name
    return "global" if rt.is_mapped("global") else None


# -- planning ---------------------------------------------------------------------------------


def import_plan(
    rt: Realtime,
    path: str | Path,
    *,
    name: str | None = None,
    follow_includes: bool = False,
) -> ImportPlan:
    """The rows of ``path`` (and of the files it includes that are mapped to a table), and
    the proof that loading them gives what the file gives.

    ``name`` is the file's name in the table (default: ``path``'s file name). Included files
    are read from ``path``'s directory. By default an ``#include`` stays an ``#include`` row
    and the included file is imported as well when a mapping (or ``global``) sends it to a
    table; with ``follow_includes`` the included text becomes part of the file's rows.

    :raises ConfigError: the file cannot be read, is not mapped, or cannot be represented
        (naming file and line where the parser can, and suggesting ``follow_includes`` when
        only that would do), or its storage would give Asterisk other text back (a ``;`` or
        ``^`` where the mapping's codec is on). This opens the mappings' connections.
    """
    path = Path(path)
    planner = _Planner(rt, path.parent, follow_includes)
    planner.plan(name or path.name, path, ())
    files = list(planner.plans.values())
    for plan in files:
        _verify_plan(plan, planner.plans, planner.base)
    _check_storage(rt, files)
    return ImportPlan(files, planner.notes)


def _check_storage(rt: Realtime, files: Sequence[FilePlan]) -> None:
    """``ConfigError`` listing every category, name or value Asterisk's static loader would
    read differently from the file, given how its mapping stores it (:mod:`.stored`:
    ``;`` and ``^`` are stored as ``^3B`` and ``^5E`` where the codec is on, and Asterisk's
    static loaders never decode them). Templates are left out: no loader reads their rows,
    and what a category inherits is checked as that category's."""
    found: dict[str, None] = {}
    for plan in files:
        storage = storage_of(rt, plan.family)
        if not storage.codec:
            continue
        for part in plan.parts:
            if isinstance(part, Include):
                message = storage.static_problem("the #include file name", part.name)
                if message is not None:
                    found[f"{plan.source}: {message}"] = None
                continue
            if part.template:
                continue
            head = storage.static_problem("the category name", part.name)
            if head is not None:
                found[f"{part.file or plan.source}:{part.lineno}: [{part.name}]: {head}"] = None
            for var in part.variables:
                for what, text in (("the option's name", var.name), ("the value", var.value)):
                    message = storage.static_problem(f"{var.name}: {what}", text)
                    if message is not None:
                        place = f"{var.file or plan.source}:{var.lineno}: [{part.name}]"
                        found[f"{place}: {message}"] = None
    if found:
        problems = list(found)
        shown = problems[:20]
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise ConfigError(
            f"{len(problems)} problem(s) stop the import:\n" + "\n".join(shown) + more
        )


class _Planner:
    """Plans a file and, keeping includes, the mapped files it includes."""

    def __init__(self, rt: Realtime, base: Path, follow: bool) -> None:
        self.rt = rt
        self.base = base
        self.follow = follow
        self.plans: dict[str, FilePlan] = {}
        self.notes: list[str] = []

    def plan(self, name: str, path: Path, stack: tuple[str, ...]) -> FilePlan:
        if name in stack:
            raise ConfigError(f"{name}: included recursively ({' -> '.join((*stack, name))})")
        family = _family(self.rt, name)
        if family is None:
            raise ConfigError(
                f"{name} is not mapped in extconfig.conf (no '{name} =>' line and no "
                "'global'): there is no table to import it into"
            )
        expected = Config.from_file(path, config_dir=self.base)  # as Asterisk reads the file
        if self.follow:
            parts: list[Part] = list(expected.categories(templates=True))
        else:
            parts = self._parts(path, (*stack, name))
        try:
            rows = rows_for(parts, name)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        plan = FilePlan(name, family, path, parts, rows, expected)
        self.plans[name] = plan
        return plan

    def _parts(self, path: Path, stack: tuple[str, ...]) -> list[Part]:
        """The file's own categories, with each ``#include`` as an :class:`Include` where it
        stands; included files mapped to a table are planned too.

        The included text is spliced in while parsing (between two marker categories), so
        that the file's own categories inherit from templates an included file defines, as
        they do when Asterisk reads the file."""
        markers: list[str] = []

        def resolve(arg: str) -> Config | None:
            target = Path(arg) if Path(arg).is_absolute() else self.base / arg
            if _GLOB & set(arg):
                raise ConfigError(
                    f"#include {arg}: a pattern cannot be kept as an #include row (each file "
                    "it matches is a file of its own); import with --follow-includes"
                )
            if not target.exists():
                return None  # the parser reports a missing #include, skips a #tryinclude
            try:
                if arg in self.plans:
                    content = self.plans[arg].expected
                elif _family(self.rt, arg) is not None:
                    content = self.plan(arg, target, stack).expected
                else:
                    self.notes.append(
                        f"{arg} is included from {stack[-1]} but not mapped: it stays a file"
                    )
                    content = Config.from_file(target, config_dir=self.base)
            except ConfigError as exc:
                raise ConfigError(
                    f"{exc} ({arg} is included from {stack[-1]}, and as a file of its own it "
                    f"cannot be read; import {stack[-1]} with --follow-includes)"
                ) from None
            index = len(markers)
            markers.append(arg)
            spliced = Config()
            spliced.add_category(_marker("start", index), template=True)
            spliced.extend(content)
            spliced.add_category(_marker("end", index), template=True)
            return spliced

        cfg = Config.from_file(path, config_dir=self.base, include_resolver=resolve)
        parts: list[Part] = []
        inside: str | None = None
        for cat in cfg.categories(templates=True):
            if inside is not None:
                if cat.name == inside:
                    inside = None
                continue
            if cat.name.startswith(_MARKER):
                index = int(cat.name.rsplit(":", 1)[1])
                parts.append(Include(markers[index]))
                inside = _marker("end", index)
                continue
            parts.append(cat)
        return parts


#: Category names no file can hold (a NUL ends a line's text).
_MARKER = "\0include:"


def _marker(kind: str, index: int) -> str:
    return f"{_MARKER}{kind}:{index}"


def _simulated_load(
    name: str, plans: dict[str, FilePlan], base: Path, stack: tuple[str, ...] = ()
) -> Config:
    """What ``load_config(name)`` will give once the planned rows are in place."""
    plan = plans.get(name)
    if plan is None:  # a file left on disk, read as the loader reads one
        target = Path(name) if Path(name).is_absolute() else base / name
        return Config.from_file(
            target,
            config_dir=base,
            include_resolver=lambda inc: (
                _simulated_load(inc, plans, base, (*stack, name)) if inc in plans else None
            ),
        )
    active = sorted((r for r in plan.rows if r.active), key=StaticRecord.sort_key)
    return build_config(
        [(r.category, r.var_name, r.var_val, r.cat_metric, r.var_metric) for r in active],
        filename=name,
        include=lambda inc: _simulated_load(inc, plans, base, (*stack, name)),
    )


def _verify_plan(plan: FilePlan, plans: dict[str, FilePlan], base: Path) -> None:
    """Loading the rows must give what the file gives; reading them back, its parts."""
    loaded = _simulated_load(plan.name, plans, base)
    if visible(loaded) != visible(plan.expected):
        raise ConfigError(
            f"{plan.name}: as rows, with its #include lines kept as rows, the file would load "
            "differently from the file itself (an included file that continues a category of "
            "the file including it, or appends to one with (+)); import it with "
            "--follow-includes"
        )
    restored = parts_from_rows([r.values(plan.name) for r in plan.rows], plan.name)
    if parts_key(restored.parts) != parts_key(plan.parts):  # pragma: no cover - a bug guard
        raise ConfigError(f"{plan.name}: the rows do not give the file's categories back")


# -- writing ----------------------------------------------------------------------------------


class _Undo:
    """Steps that put the table back as it was, run newest first on failure."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, Callable[[], object]]] = []

    def push(self, what: str, step: Callable[[], object]) -> None:
        self.steps.append((what, step))

    def run(self) -> list[str]:
        """Undo everything; returns what could not be undone."""
        failed = []
        for what, step in reversed(self.steps):
            try:
                step()
            except RealtimeError as exc:
                failed.append(f"{what} ({exc})")
        self.steps.clear()
        return failed


def run_import(
    rt: Realtime,
    plan: ImportPlan,
    *,
    replace: bool = False,
    progress: Progress | None = None,
) -> None:
    """Write ``plan`` all or nothing (see the module's description).

    :param replace: replace files that already have rows (else ``ConfigError``).
    :raises ConfigError: a file already has rows and ``replace`` is not set, or the rows
        read back differ from what was written (nothing is left changed).
    :raises RealtimeError: what the storage raised (nothing is left changed, or the error
        names what could not be undone).
    """
    token = secrets.token_hex(4)
    for f in plan.files:
        existing = rt.load_multi(f.family, ("filename", f.name))
        if existing and not replace:
            raise ConfigError(
                f"{f.name} already has {len(existing)} rows in the table of mapping "
                f"{f.family!r}; replace them with --replace"
            )
    undo = _Undo()
    try:
        for f in plan.files:  # stage
            staging = f"{f.name}~ara-new-{token}"
            undo.push(f"delete staged rows {staging!r}", _destroyer(rt, f.family, staging))
            for row in f.rows:
                rt.store(f.family, row.values(staging))
                if progress is not None:
                    progress(1)
            _check_rows(rt, f, staging)
        for f in plan.files:  # switch
            staging, old = f"{f.name}~ara-new-{token}", f"{f.name}~ara-old-{token}"
            rt.update(f.family, "filename", f.name, {"filename": old})
            undo.push(f"rename {old!r} back to {f.name!r}", _renamer(rt, f.family, old, f.name))
            rt.update(f.family, "filename", staging, {"filename": f.name})
            undo.push(f"rename {f.name!r} to {staging!r}", _renamer(rt, f.family, f.name, staging))
        for f in plan.files:  # what Asterisk will load
            loaded = rt.load_config(f.name)
            if visible(loaded) != visible(f.expected):
                raise ConfigError(f"{f.name}: loaded back through the mapping, it differs")
    except (RealtimeError, OSError) as exc:
        left = undo.run()
        if left:
            raise BackendError(
                f"{exc}; undoing the import failed for: {'; '.join(left)}; the table is not as "
                "it was",
                failures=getattr(exc, "failures", ()),
            ) from exc
        if isinstance(exc, RealtimeError):
            raise _again(
                exc, f"{exc}; nothing was imported: every file's rows are as they were"
            ) from exc
        raise
    for f in plan.files:  # the old rows, out of every loader's sight since the switch
        old = f"{f.name}~ara-old-{token}"
        rt.destroy(f.family, "filename", old)


def _destroyer(rt: Realtime, family: str, filename: str) -> Callable[[], object]:
    return lambda: rt.destroy(family, "filename", filename)


def _renamer(rt: Realtime, family: str, old: str, new: str) -> Callable[[], object]:
    return lambda: rt.update(family, "filename", old, {"filename": new})


def _check_rows(rt: Realtime, plan: FilePlan, filename: str) -> None:
    """The staged rows read back must be the planned ones, exactly."""
    rows = rt.load_multi(plan.family, ("filename", filename))
    got = sorted(
        (
            r.get("category", ""),
            r.get("var_name", ""),
            r.get("var_val", ""),
            int(r.get("cat_metric", "0")),
            int(r.get("var_metric", "0")),
            int(r.get("commented", "0")),
        )
        for r in rows
    )
    want = sorted(
        (r.category, r.var_name, r.var_val, r.cat_metric, r.var_metric, r.commented)
        for r in plan.rows
    )
    if got != want:
        lost = len(set(want) - set(got))
        raise ConfigError(
            f"{plan.name}: {lost} of {len(want)} rows did not read back as written "
            f"(mapping {plan.family!r}: is a column too short, or does the table change values?)"
        )


# -- export -----------------------------------------------------------------------------------


def export_text(rt: Realtime, name: str) -> tuple[str, Restored]:
    """``name`` as ``.conf`` text from its rows: templates and ``[name](bases)`` headers as
    the import stored them, ``#include`` rows as ``#include`` lines.

    :raises ConfigError: ``name`` is not mapped, or has no rows.
    """
    family = _family(rt, name)
    if family is None:
        raise ConfigError(f"{name} is not mapped in extconfig.conf (nor is global)")
    rows = rt.load_multi(family, ("filename", name))
    if not rows:
        raise ConfigError(f"{name} has no rows in the table of mapping {family!r}")
    restored = parts_from_rows(rows, name)
    return text_of(restored.parts), restored


def text_of(parts: Sequence[Part]) -> str:
    """``.conf`` text for ``parts``: categories through the writer, includes as lines.

    A category whose bases lie beyond an ``#include`` line is written out in full.
    """
    out: list[str] = []
    segment: list[Category] = []

    def flush() -> None:
        if segment:
            cfg = Config()
            for cat in segment:
                _category(
                    cfg,
                    cat.name,
                    template=cat.template,
                    bases=cat.bases,
                    items=cat.items(),
                    filename="",
                )
            out.append(cfg.to_text())
            segment.clear()

    for part in parts:
        if isinstance(part, Include):
            flush()
            out.append(f'#include "{part.name}"\n')
        else:
            segment.append(part)
    flush()
    return "\n".join(out)
