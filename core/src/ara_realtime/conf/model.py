"""The in-memory form of a ``.conf`` file: :class:`Config`, :class:`Category`, :class:`Variable`.

Names are compared the way Asterisk compares them (``strcasecmp``): case-insensitively for ASCII
letters only. Templates (``(!)``) are hidden from :class:`Config` look-ups and iteration.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ara_realtime.conf import parser as _parser
from ara_realtime.conf import writer as _writer

__all__ = ["Category", "Config", "Variable"]

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _fold(name: str) -> str:
    """Fold ASCII letters only, like C ``strcasecmp``."""
    return name.translate(_ASCII_LOWER)


class Variable:
    """One ``name = value`` line (or ``name => value`` when :attr:`object` is set)."""

    __slots__ = ("file", "inherited", "lineno", "name", "object", "value")

    def __init__(
        self,
        name: str,
        value: str,
        *,
        file: str | None = None,
        lineno: int | None = None,
        object: bool = False,
        inherited: bool = False,
    ) -> None:
        self.name = name
        self.value = value
        self.file = file
        self.lineno = lineno
        self.object = object
        self.inherited = inherited

    def _copy(self, *, inherited: bool | None = None) -> Variable:
        return Variable(
            self.name,
            self.value,
            file=self.file,
            lineno=self.lineno,
            object=self.object,
            inherited=self.inherited if inherited is None else inherited,
        )

    def __repr__(self) -> str:
        # The value is left out on purpose: it may be a secret.
        arrow = "=>" if self.object else "="
        return f"<Variable {self.name!r} {arrow} ...>"


#: Held while a category turns its pending rows into Variables (rare, and short).
_MATERIALIZING = threading.Lock()


class Category:
    """A ``[name]`` section: an ordered list of variables, duplicates allowed."""

    __slots__ = (
        "_inherits",
        "_pending",
        "_variables",
        "bases",
        "file",
        "lineno",
        "name",
        "template",
    )

    def __init__(
        self,
        name: str,
        *,
        template: bool = False,
        bases: Sequence[str] = (),
        file: str | None = None,
        lineno: int | None = None,
    ) -> None:
        self.name = name
        self.template = template
        self.bases: list[str] = list(bases)
        self.file = file
        self.lineno = lineno
        self._variables: list[Variable] = []
        #: rows added in bulk (static configuration; items 1 and 2 are name and value), turned
        #: into Variables of this category's file on first use
        self._pending: list[Sequence[Any]] | None = None
        self._inherits: Sequence[str] = ()

    @property
    def variables(self) -> list[Variable]:
        """Every variable in order, inherited copies first (a mutable list)."""
        if self._pending is not None:
            self._materialize()
        return self._variables

    @variables.setter
    def variables(self, value: list[Variable]) -> None:
        self._pending = None
        self._variables = value

    @property
    def inherits(self) -> list[str]:
        """Names of the categories actually inherited from, each spelled as that category is."""
        return list(self._inherits)

    def items(self) -> list[tuple[str, str]]:
        """All ``(name, value)`` pairs in order, inherited copies included."""
        pending = self._pending  # read once: another thread may be materializing it
        if pending is not None and not self._variables:
            return [(r[1], r[2]) for r in pending]
        return [(v.name, v.value) for v in self.variables]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The LAST value of ``name`` (case-insensitive), so own lines override inherited ones."""
        key = _fold(name)
        for var in reversed(self.variables):
            if _fold(var.name) == key:
                return var.value
        return default

    def get_first(self, name: str, default: str | None = None) -> str | None:
        """The FIRST value of ``name`` (case-insensitive)."""
        key = _fold(name)
        for var in self.variables:
            if _fold(var.name) == key:
                return var.value
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name`` (case-insensitive), in order."""
        key = _fold(name)
        return [v.value for v in self.variables if _fold(v.name) == key]

    def append(
        self,
        name: str,
        value: str,
        *,
        object: bool = False,
        file: str | None = None,
        lineno: int | None = None,
    ) -> Variable:
        """Add an own variable at the end and return it."""
        var = Variable(name, value, file=file, lineno=lineno, object=object)
        self.variables.append(var)
        return var

    @classmethod
    def _from_rows(cls, name: str, rows: list[Any], file: str | None) -> Category:
        """A plain category of ``file`` that takes over ``rows`` (see :meth:`_add_rows`).

        No checks, and as few objects as can be: a loaded static file keeps one of these per
        category alive, and each object that survives adds to Python's full GC passes.
        """
        cat = object.__new__(cls)
        cat.name = name
        cat.template = False
        cat.bases = []
        cat.file = file
        cat.lineno = None
        cat._variables = []
        cat._pending = rows
        cat._inherits = ()
        return cat

    def _add_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        """Append ``name = value`` variables from rows whose items 1 and 2 are name and value.

        The static-configuration fast path: the rows are kept as they are and become
        :class:`Variable` objects (of this category's file) when :attr:`variables` is first
        used.
        """
        if self._pending is None:
            self._pending = []
        self._pending.extend(rows)

    def _materialize(self) -> None:
        """Turn the pending rows into Variables, once, even when threads read at the same time.

        A loaded ``Config`` is read-only to its readers, so several threads may reach here
        together: one builds under the lock and the rest wait, and ``_pending`` is cleared only
        after the Variables are all in place (a reader that finds it cleared sees them all).
        """
        with _MATERIALIZING:
            rows = self._pending
            if rows is None:
                return
            new = object.__new__
            file = self.file
            made: list[Variable] = []
            append = made.append
            for row in rows:
                var = new(Variable)
                var.name = row[1]
                var.value = row[2]
                var.file = file
                var.lineno = None
                var.object = False
                var.inherited = False
                append(var)
            self._variables.extend(made)
            self._pending = None

    def _inherit(self, base: Category, spelled: str) -> None:
        """Copy ``base``'s variables now (Asterisk's ``ast_category_inherit``)."""
        self.bases.append(spelled)
        if not isinstance(self._inherits, list):
            self._inherits = list(self._inherits)
        self._inherits.append(base.name)  # in place: a header may list thousands of bases
        self.variables.extend([v._copy(inherited=True) for v in list(base.variables)])

    def _copy(self) -> Category:
        new = Category(
            self.name,
            template=self.template,
            bases=self.bases,
            file=self.file,
            lineno=self.lineno,
        )
        new.variables = [v._copy() for v in self.variables]
        new._inherits = list(self._inherits)
        return new

    def __iter__(self) -> Iterator[Variable]:
        return iter(self.variables)

    def __len__(self) -> int:
        return len(self.variables)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = _fold(name)
        return any(_fold(v.name) == key for v in self.variables)

    def __repr__(self) -> str:
        kind = " template" if self.template else ""
        return f"<Category{kind} {self.name!r}: {len(self.variables)} variables>"


class Config:
    """An ordered list of categories, as Asterisk's ``struct ast_config``."""

    def __init__(self) -> None:
        self._categories: list[Category] = []

    # -- loading -----------------------------------------------------------------------------

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        config_dir: str | os.PathLike[str] | None = None,
        exec_includes: bool = False,
        include_resolver: Callable[[str], Config | None] | None = None,
    ) -> Config:
        """Parse a ``.conf`` file; raises :class:`~ara_realtime.errors.ConfigError`.

        A relative ``path`` is taken relative to ``config_dir`` if given, else to the CWD.
        ``#include`` names are absolute or relative to ``config_dir`` (default: the directory
        of ``path``). ``include_resolver(name)`` may supply an included file's content.
        """
        cfg = cls()
        _parser.load_file(
            cfg,
            path,
            config_dir=config_dir,
            exec_includes=exec_includes,
            include_resolver=include_resolver,
        )
        return cfg

    @classmethod
    def from_string(
        cls,
        text: str,
        *,
        filename: str = "<string>",
        config_dir: str | os.PathLike[str] | None = None,
        exec_includes: bool = False,
        include_resolver: Callable[[str], Config | None] | None = None,
    ) -> Config:
        """Parse ``.conf`` text; ``#include`` names are relative to ``config_dir`` (or the CWD)."""
        cfg = cls()
        _parser.load_string(
            cfg,
            text,
            filename=filename,
            config_dir=config_dir,
            exec_includes=exec_includes,
            include_resolver=include_resolver,
        )
        return cfg

    # -- look-ups ----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Category]:
        return iter(self.categories())

    def categories(self, *, templates: bool = False) -> list[Category]:
        """Categories in order; templates only when ``templates=True``."""
        if templates:
            return list(self._categories)
        return [c for c in self._categories if not c.template]

    def _find(self, name: str) -> Category | None:
        key = _fold(name)
        for cat in self._categories:
            if not cat.template and _fold(cat.name) == key:
                return cat
        return None

    def __getitem__(self, name: str) -> Category:
        cat = self._find(name)
        if cat is None:
            raise KeyError(name)
        return cat

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def get(self, category: str, variable: str, default: str | None = None) -> str | None:
        """Last value of ``variable`` in the first non-template ``category``, else ``default``."""
        cat = self._find(category)
        return default if cat is None else cat.get(variable, default)

    def get_first(self, category: str, variable: str, default: str | None = None) -> str | None:
        """First value of ``variable`` in the first non-template ``category``, else ``default``."""
        cat = self._find(category)
        return default if cat is None else cat.get_first(variable, default)

    # -- building ----------------------------------------------------------------------------

    def add_category(
        self,
        name: str,
        *,
        template: bool = False,
        bases: Sequence[str] = (),
        file: str | None = None,
        lineno: int | None = None,
    ) -> Category:
        """Append a new category; like a ``[name](bases)`` header, bases are copied now.

        Each base is the first category of that name (case-insensitive, templates included;
        ``""`` means the first category). An unknown base raises :class:`KeyError`.
        """
        cat = Category(name, template=template, file=file, lineno=lineno)
        for spelled in bases:
            base = self._find_base(spelled)
            if base is None:
                raise KeyError(f"base category {spelled!r} does not exist")
            cat._inherit(base, spelled)
        self._categories.append(cat)
        return cat

    def _find_base(self, name: str) -> Category | None:
        """First category named ``name`` (templates included); ``""`` matches the first one."""
        key = _fold(name)
        for cat in self._categories:
            if not name or _fold(cat.name) == key:
                return cat
        return None

    def _new_category(self, name: str, file: str | None, lineno: int | None) -> Category:
        """A category not yet in this config (the parser appends it once its header is valid)."""
        return Category(name, file=file, lineno=lineno)

    def _append(self, cat: Category) -> None:
        self._categories.append(cat)

    def extend(self, other: Config) -> None:
        """Append copies of all of ``other``'s categories (templates included), in order."""
        self._categories.extend([c._copy() for c in list(other._categories)])

    # -- output ------------------------------------------------------------------------------

    def to_text(self) -> str:
        """``.conf`` text that parses back to an equal Config; ``ValueError`` if impossible."""
        return _writer.to_text(self)

    def to_dict(self) -> list[dict[str, Any]]:
        """Every category (templates included) in the golden-file form."""
        return [
            {
                "name": c.name,
                "template": c.template,
                "inherits": list(c._inherits),
                "items": [[v.name, v.value] for v in c.variables],
            }
            for c in self._categories
        ]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Config):
            return NotImplemented
        return _key(self) == _key(other)

    __hash__ = None  # type: ignore[assignment]  # mutable: not hashable

    def __repr__(self) -> str:
        total = len(self._categories)
        templates = sum(1 for c in self._categories if c.template)
        return f"<Config: {total} categories ({templates} templates)>"


def _key(cfg: Config) -> list[tuple[str, bool, list[tuple[str, str]]]]:
    return [(c.name, c.template, c.items()) for c in cfg._categories]
