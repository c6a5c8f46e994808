"""Reader for Asterisk's ``.conf`` syntax.

A close port of ``config_text_file_load`` and ``process_text_line`` (``main/config.c``), with
the corrections of the research notes' Appendix D. ``docs/conf-format.md`` lists the syntax and
every deliberate difference from Asterisk.

Every step is bounded (:mod:`ara_realtime.conf.limits`): lines are scanned in linear time and
skipped at Asterisk's length limit, category look-ups go through an index, ``+=`` through a
per-category index, and what can multiply (inheritance copies, included files, filter work)
has a load-wide cap that raises :class:`ConfigError` naming the file and line.
"""

from __future__ import annotations

import heapq
import logging
import os
import stat
import subprocess
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ara_realtime.conf.filters import CategoryIndex, Filter, fold
from ara_realtime.conf.globbing import GlobLimitError, expand
from ara_realtime.conf.limits import (
    MAX_CATEGORY_NAME_BYTES,
    MAX_COPIED_VARIABLES,
    MAX_FILES_PER_LOAD,
    MAX_FILTER_WORK,
    MAX_INCLUDE_LEVEL,
    MAX_LINE_BYTES,
    MAX_NESTED_COMMENTS,
    MAX_VALUE_LENGTH,
)
from ara_realtime.conf.posix_regex import Meter, RegexLimitError, WorkExceeded
from ara_realtime.errors import ConfigError

if TYPE_CHECKING:
    from ara_realtime.conf.model import Category, Config, Variable

__all__ = ["MAX_INCLUDE_LEVEL", "MAX_NESTED_COMMENTS", "load_file", "load_string"]

log = logging.getLogger("ara_realtime.conf")

Resolver = Callable[[str], "Config | None"]

_BLANKS = "".join(chr(i) for i in range(33))
_UTF8_BOM = b"\xef\xbb\xbf"
#: a line of at most this many characters is shorter than MAX_LINE_BYTES in any encoding
_SURELY_SHORT = MAX_LINE_BYTES // 4


class _LoadLimitError(ConfigError):
    """A load-wide limit: it ends the whole load, not just the included file it happened in."""


def _strip(text: str) -> str:
    """``ast_strip``: drop bytes <= 0x20 at both ends."""
    return text.strip(_BLANKS)


# -- entry points ------------------------------------------------------------------------------


def load_file(
    cfg: Config,
    path: str | os.PathLike[str],
    *,
    config_dir: str | os.PathLike[str] | None = None,
    exec_includes: bool = False,
    include_resolver: Resolver | None = None,
) -> None:
    """Parse the file at ``path`` into ``cfg`` (see :meth:`Config.from_file`)."""
    name = os.fspath(path)
    if config_dir is not None and not os.path.isabs(name):
        name = os.path.join(os.fspath(config_dir), name)
    base = (
        os.fspath(config_dir) if config_dir is not None else os.path.dirname(os.path.abspath(name))
    )
    try:
        info = os.stat(name)
    except FileNotFoundError:
        raise ConfigError("file not found", name) from None
    except OSError as err:
        raise ConfigError(f"cannot read file: {err.strerror}", name) from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError("not a regular file", name)
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except OSError as err:
        raise ConfigError(f"cannot read file: {err.strerror}", name) from None
    loader = _Loader(cfg, base, exec_includes, include_resolver)
    loader.parse_text(*_decode(data), name, _FileState(None), 1)


def load_string(
    cfg: Config,
    text: str,
    *,
    filename: str = "<string>",
    config_dir: str | os.PathLike[str] | None = None,
    exec_includes: bool = False,
    include_resolver: Resolver | None = None,
) -> None:
    """Parse ``text`` into ``cfg`` (see :meth:`Config.from_string`)."""
    base = os.fspath(config_dir) if config_dir is not None else os.getcwd()
    loader = _Loader(cfg, base, exec_includes, include_resolver)
    loader.parse_text(text, False, filename, _FileState(None), 1)


# -- reading files -----------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, bool]:
    """The text, and whether it is latin-1 (the whole file, when it is not valid UTF-8)."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        # Keep the BOM recognisable so that line 1 drops it either way.
        return ("\ufeff" + text[3:] if data.startswith(_UTF8_BOM) else text), True


def _byte_length(text: str, latin1: bool) -> int:
    """Length of ``text`` in the file's bytes (UTF-8 for text that came from no file)."""
    if latin1:
        return len(text) + (2 if text.startswith("\ufeff") else 0)  # the BOM's 3 bytes
    return len(text.encode("utf-8", "surrogatepass"))


def _cut_name(name: str, latin1: bool) -> str:
    """A category name as Asterisk keeps it: its first 79 bytes (whole characters only)."""
    if len(name) <= MAX_CATEGORY_NAME_BYTES // 4:
        return name
    if latin1:
        return name[:MAX_CATEGORY_NAME_BYTES]
    data = name.encode("utf-8", "surrogatepass")
    if len(data) <= MAX_CATEGORY_NAME_BYTES:
        return name
    cut = MAX_CATEGORY_NAME_BYTES
    while (data[cut] & 0xC0) == 0x80:  # do not split a character
        cut -= 1
    return data[:cut].decode("utf-8", "surrogatepass")


def _read_include(path: str) -> bytes | None:
    """The file's bytes, or ``None`` when it is missing, not a regular file or unreadable."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        log.warning("'%s' is not a regular file, ignoring", path)
        return None
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as err:
        log.warning("'%s' cannot be read (%s), ignoring", path, err.strerror)
        return None


# -- the parser ---------------------------------------------------------------------------------


class _FileState:
    """What one ``config_text_file_load`` call keeps across lines (and across glob matches)."""

    __slots__ = ("cat", "comment", "nest")

    def __init__(self, cat: Category | None) -> None:
        self.cat = cat
        self.comment = 0
        self.nest: dict[int, int] = {}


class _Appends:
    """Where ``name += text`` looks in one category, kept in step as the category grows.

    Built on a category's first ``+=``, so each later one costs O(log n) instead of two scans.
    Variables are only ever appended during a load, and only ``+=`` renames or changes one, so
    the heaps below hold positions, and an entry that went stale is dropped when it surfaces.
    """

    __slots__ = ("by_name", "by_value", "count", "exact", "keys")

    def __init__(self) -> None:
        self.count = 0
        self.exact: dict[str, list[int]] = {}  # name -> max-heap of positions (negated)
        self.by_name: dict[str, list[int]] = {}  # folded name -> positions, ascending
        self.by_value: dict[tuple[str, str], list[int]] = {}  # folded (name, value) -> heap
        self.keys: list[tuple[str, str]] = []  # each position's current folded (name, value)

    def sync(self, variables: list[Variable]) -> None:
        for pos in range(self.count, len(variables)):
            var = variables[pos]
            key = (fold(var.name), fold(var.value))
            heapq.heappush(self.exact.setdefault(var.name, []), -pos)
            self.by_name.setdefault(key[0], []).append(pos)
            heapq.heappush(self.by_value.setdefault(key, []), -pos)
            self.keys.append(key)
        self.count = len(variables)

    def last_exact(self, variables: list[Variable], name: str) -> int | None:
        """Position of the last variable named exactly ``name``."""
        heap = self.exact.get(name)
        while heap and variables[-heap[0]].name != name:
            heapq.heappop(heap)
        return -heap[0] if heap else None

    def last_match(self, folded_name: str, old: str) -> int:
        """``ast_variable_update``'s target: the last name match holding ``old`` (any if empty)."""
        if not old:
            return self.by_name[folded_name][-1]
        key = (folded_name, fold(old))
        heap = self.by_value[key]
        while self.keys[-heap[0]] != key:
            heapq.heappop(heap)
        return -heap[0]

    def update(self, var: Variable, pos: int, name: str, value: str) -> None:
        if var.name != name:
            heapq.heappush(self.exact.setdefault(name, []), -pos)
        key = (self.keys[pos][0], fold(value))
        if key != self.keys[pos]:
            self.keys[pos] = key
            heapq.heappush(self.by_value.setdefault(key, []), -pos)
        var.name = name
        var.value = value
        var.inherited = False


class _Loader:
    """One load: the config being built and what is shared by all files of the load."""

    def __init__(
        self,
        cfg: Config,
        base_dir: str,
        exec_includes: bool,
        resolver: Resolver | None,
    ) -> None:
        self.cfg = cfg
        self.base_dir = base_dir
        self.exec_includes = exec_includes
        self.resolver = resolver
        self.current: Category | None = None  # cfg->current: last created or (+)-targeted
        self.included: set[str] = set()
        self.warned: set[str] = set()
        self.index = CategoryIndex(cfg)
        self.filter_work = Meter(MAX_FILTER_WORK)
        self.copied = 0
        self.files = 0
        self.appends: dict[int, tuple[Category, _Appends]] = {}

    # lines

    def _warn(self, message: str, *args: object) -> None:
        """Log a warning once per load: a file included a thousand times warns once per line."""
        text = message % args if args else message
        if text not in self.warned:
            self.warned.add(text)
            log.warning("%s", text)

    def parse_text(
        self, text: str, latin1: bool, filename: str, st: _FileState, level: int
    ) -> None:
        """Parse one file's text; ``ConfigError`` ends it."""
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        for lineno, raw in enumerate(lines, 1):
            nul = raw.find("\0")
            if nul >= 0:
                raw = raw[:nul]
            if len(raw) > _SURELY_SHORT:
                size = _byte_length(raw, latin1)
                if size >= MAX_LINE_BYTES:
                    self._warn(
                        "%s:%d: line too long (%d bytes, the limit is %d), skipped",
                        filename,
                        lineno,
                        size,
                        MAX_LINE_BYTES - 1,
                    )
                    continue
            if lineno == 1 and raw.startswith("\ufeff"):
                raw = raw[1:]
            if st.comment == 0 and ";" not in raw:
                line = _strip(raw)
            else:
                line = self._uncomment(raw, st, filename, lineno)
            if line:
                self._line(line, st, filename, lineno, level, latin1=latin1)
        if st.comment:
            opened = st.nest.get(st.comment)
            where = f" beginning on line {opened}" if opened is not None else ""
            self._warn("%s: unterminated block comment detected%s", filename, where)

    @staticmethod
    def _uncomment(raw: str, st: _FileState, filename: str, lineno: int) -> str:
        """Remove comments exactly as Asterisk does; returns the stripped text to process.

        Asterisk edits its line buffer in place: ``\\;`` loses its backslash, a block opener's
        ``;`` becomes a NUL, and a closed block is cut out from the first of those NULs. Here
        the kept text is built in one pass instead (``pos`` is Asterisk's scan position), so a
        line of many escapes or markers costs linear time.
        """
        out: list[str] = []  # the text from ``process`` up to ``pos``, without NUL marks
        mark: int | None = None  # index in ``out`` of the first NUL mark after ``process``
        pos = 0
        process = st.comment == 0  # whether Asterisk's ``process_buf`` is set yet
        while True:
            p = raw.find(";", pos)
            if p < 0:
                if process:
                    out.append(raw[pos:])
                break
            if p > pos and raw[p - 1] == "\\":
                if process:
                    out.append(raw[pos : p - 1])  # "\;" is a literal ";"
                    out.append(";")
                pos = p + 1
            elif raw[p + 1 : p + 3] == "--" and raw[p + 3 : p + 4] != "-":
                if st.comment >= MAX_NESTED_COMMENTS:
                    raise ConfigError(
                        f"block comments nested deeper than {MAX_NESTED_COMMENTS}",
                        filename,
                        lineno,
                    )
                if process:
                    out.append(raw[pos:p])
                    if mark is None:
                        mark = len(out)
                    out.append(raw[p + 1 : p + 3])
                pos = p + 3
                st.comment += 1
                st.nest[st.comment] = lineno
            elif p >= pos + 2 and raw[p - 2 : p] == "--":
                st.comment -= 1
                if process:
                    out.append(raw[pos : p + 1])
                pos = p + 1
                if st.comment == 0:
                    if process:
                        # Cut from the first block opener to here (one always exists).
                        if mark is not None:
                            del out[mark:]
                            mark = None
                    else:
                        process = True
            elif st.comment == 0:
                if process:
                    out.append(raw[pos:p])
                break
            else:
                if process:
                    out.append(raw[pos : p + 1])
                pos = p + 1
        if not process:
            return ""
        return _strip("".join(out if mark is None else out[:mark]))

    def _line(
        self, text: str, st: _FileState, filename: str, lineno: int, level: int, *, latin1: bool
    ) -> None:
        if text[0] == "[":
            self._header(text, st, filename, lineno, latin1=latin1)
        elif text[0] == "#":
            self._directive(text, st, filename, lineno, level)
        else:
            self._variable(text, st, filename, lineno)

    # [category](options)

    def _header(
        self, text: str, st: _FileState, filename: str, lineno: int, *, latin1: bool
    ) -> None:
        close = text.find("]")
        if close < 0:
            raise ConfigError("no closing ']' in category header", filename, lineno)
        name = text[1:close]  # look-ups use the whole name, the new category keeps 79 bytes
        rest = text[close + 1 :]
        target = self.cfg._new_category(_cut_name(name, latin1), filename, lineno)
        newcat: Category | None = target
        st.cat = target
        if rest.startswith("("):
            end = rest.find(")")
            if end < 0:
                raise ConfigError("no closing ')' in category header options", filename, lineno)
            for option in rest[1:end].split(","):
                if option == "!":
                    target.template = True
                elif option.startswith("+"):
                    found = self._find_addition(name, option[1:], filename, lineno)
                    target = st.cat = found
                    if newcat is not None:
                        self.current = found
                        found.template = found.template or newcat.template
                        found.variables.extend(newcat.variables)
                        newcat = None
                else:
                    base = self.index.first(option)
                    if base is None:
                        raise ConfigError(
                            f"inheritance requested, but category {option!r} does not exist",
                            filename,
                            lineno,
                        )
                    self.copied += len(base.variables)
                    if self.copied > MAX_COPIED_VARIABLES:
                        raise _LoadLimitError(
                            f"inheritance would copy more than {MAX_COPIED_VARIABLES} variables "
                            "in this load (a base inherited over and over?)",
                            filename,
                            lineno,
                        )
                    target._inherit(base, option)
        if newcat is not None:
            self.cfg._append(newcat)
            self.current = newcat

    def _find_addition(self, name: str, match: str, filename: str, lineno: int) -> Category:
        """The category a ``(+filter)`` option appends to."""
        if not match:
            found = self.index.first_plain(name)
        else:
            try:
                found = self.index.find(name, Filter(match, "&"), self.filter_work)
            except RegexLimitError as err:
                raise ConfigError(f"category filter {match!r}: {err}", filename, lineno) from None
            except WorkExceeded:
                raise _LoadLimitError(
                    f"category filters need more than {MAX_FILTER_WORK} steps in this load",
                    filename,
                    lineno,
                ) from None
        if found is None:
            raise ConfigError(
                f"category addition requested, but category {name!r} does not exist",
                filename,
                lineno,
            )
        return found

    # name = value

    def _variable(self, text: str, st: _FileState, filename: str, lineno: int) -> None:
        cat = st.cat
        if cat is None:
            raise ConfigError(
                "no category for this line (variable outside a category)", filename, lineno
            )
        cur = text
        escaped = cur[0] == "\\"
        if escaped:
            cur = cur[1:]
            if not cur or ord(cur[0]) < 33:
                raise ConfigError("invalid escape: '\\' followed by a blank", filename, lineno)
        eq = cur.find("=", 1 if escaped else 0)
        if eq < 0:
            self._warn("%s:%d: no '=' (equal sign) in line, ignored", filename, lineno)
            return
        if eq > int(escaped) and cur[eq - 1] == "+":
            name = _strip(cur[: eq - 1])
            if not self._append_to(cat, name, cur[eq + 1 :], filename, lineno):
                self._new_variable(
                    cat,
                    name,
                    _strip(cur[eq + 1 :]),
                    is_object=False,
                    filename=filename,
                    lineno=lineno,
                )
            return
        name = _strip(cur[:eq])
        value = cur[eq + 1 :]
        is_object = value.startswith(">")
        if is_object:
            value = value[1:]
        self._new_variable(
            cat, name, _strip(value), is_object=is_object, filename=filename, lineno=lineno
        )

    def _append_to(self, cat: Category, name: str, raw: str, filename: str, lineno: int) -> bool:
        """``name += raw``; ``False`` when no variable has exactly that name (then it is ``=``).

        The old value is the last variable named exactly ``name``; the result replaces the last
        variable whose name and value match it case-insensitively (``ast_variable_update``).
        """
        entry = self.appends.get(id(cat))
        if entry is None or entry[0] is not cat:
            entry = self.appends[id(cat)] = (cat, _Appends())
        index = entry[1]
        variables = cat.variables
        index.sync(variables)
        at = index.last_exact(variables, name)
        if at is None:
            return False
        old = variables[at]
        joined = _strip(old.value + raw)
        if len(joined) > MAX_VALUE_LENGTH:
            raise ConfigError(
                f"'{name} +=' makes a value longer than {MAX_VALUE_LENGTH} characters",
                filename,
                lineno,
            )
        hit = index.last_match(index.keys[at][0], old.value)
        index.update(variables[hit], hit, old.name, joined)
        return True

    def _new_variable(
        self,
        cat: Category,
        name: str,
        value: str,
        *,
        is_object: bool,
        filename: str,
        lineno: int,
    ) -> None:
        if not name:
            self._warn("%s:%d: no variable name, line ignored", filename, lineno)
            return
        cat.append(name, value, object=is_object, file=filename, lineno=lineno)

    # #directive argument

    def _directive(self, text: str, st: _FileState, filename: str, lineno: int, level: int) -> None:
        body = text[1:]
        i = 0
        while i < len(body) and ord(body[i]) > 32:
            i += 1
        word = body[:i]
        arg = _strip(body[i:])
        kind = fold(word)
        if kind == "exec" and not self.exec_includes:
            self._warn("%s:%d: #exec ignored (exec_includes is not enabled)", filename, lineno)
            return
        if kind not in ("include", "tryinclude", "exec"):
            self._warn("%s:%d: unknown directive '#%s', ignored", filename, lineno, word)
            return
        if not arg:
            self._warn("%s:%d: directive '#%s' needs an argument", filename, lineno, word)
            return
        if arg[0] in '"<' and arg[-1] == (">" if arg[0] == "<" else '"'):
            arg = arg[1:-1]
        if kind == "exec":
            self._count_file(filename, lineno)
            output = self._run(arg, filename, lineno)
        else:
            if arg in self.included:
                self._warn("%s:%d: same file included more than once: %s", filename, lineno, arg)
            self.included.add(arg)
        if level == MAX_INCLUDE_LEVEL + 1:
            self._warn(
                "%s:%d: maximum include level (%d) exceeded", filename, lineno, MAX_INCLUDE_LEVEL
            )
            if kind != "tryinclude":
                raise ConfigError(
                    f"cannot include {arg!r}: maximum include depth ({MAX_INCLUDE_LEVEL}) exceeded",
                    filename,
                    lineno,
                )
            return
        if kind == "exec":
            self._parse_nested([(f"<#exec {arg}>", output)], level + 1)
            return
        if self.resolver is not None:
            spliced = self.resolver(arg)
            if spliced is not None:
                self._count_file(filename, lineno)
                count = len(self.cfg._categories)
                self.cfg.extend(spliced)
                if len(self.cfg._categories) > count:
                    self.current = self.cfg._categories[-1]
                return
        try:
            paths = expand(self.base_dir, arg)
        except GlobLimitError as err:
            raise ConfigError(f"cannot include {arg!r}: {err}", filename, lineno) from None
        files = self._read_files(paths, filename, lineno)
        if not self._parse_nested(files, level + 1) and kind == "include":
            raise ConfigError(
                f"the file {arg!r} was listed as a #include but it does not exist",
                filename,
                lineno,
            )

    def _count_file(self, filename: str, lineno: int) -> None:
        self.files += 1
        if self.files > MAX_FILES_PER_LOAD:
            raise _LoadLimitError(
                f"more than {MAX_FILES_PER_LOAD} files read in this load "
                "(a file included over and over?)",
                filename,
                lineno,
            )

    def _read_files(
        self, paths: list[str], filename: str, lineno: int
    ) -> Iterable[tuple[str, bytes]]:
        """``(path, bytes)`` of every readable file of ``paths``, read one by one."""
        for path in paths:
            data = _read_include(path)
            if data is not None:
                self._count_file(filename, lineno)
                yield path, data

    def _parse_nested(self, files: Iterable[tuple[str, bytes]], level: int) -> bool:
        """Parse included files in the config's current category; an error ends them only.

        Returns whether any file was read. A load-wide limit ends the whole load.
        """
        st = _FileState(self.current)
        count = 0
        try:
            for path, data in files:
                count += 1
                self.parse_text(*_decode(data), path, st, level)
        except _LoadLimitError:
            raise
        except ConfigError as err:
            self._warn("%s (the rest of this included file is ignored)", err)
        return count > 0

    def _run(self, command: str, filename: str, lineno: int) -> bytes:
        """Run a ``#exec`` command through the shell; its stdout is the included text."""
        try:
            # The whole point of #exec (opt-in via exec_includes) is a shell command line.
            proc = subprocess.run(command, shell=True, capture_output=True, check=False)  # noqa: S602
        except OSError as err:
            raise ConfigError(f"#exec {command!r} failed: {err}", filename, lineno) from err
        for line in proc.stderr.decode("utf-8", "replace").splitlines():
            log.error("#exec <%s>: %s", command, line)
        if proc.returncode:
            log.error("#exec <%s>: exited with return value %d", command, proc.returncode)
        if not proc.stdout:
            self._warn("#exec <%s>: the program generated no usable output", command)
        return proc.stdout
