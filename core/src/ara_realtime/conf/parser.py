"""Reader for Asterisk's ``.conf`` syntax.

A close port of ``config_text_file_load`` and ``process_text_line`` (``main/config.c``), with
the corrections of the research notes' Appendix D. ``docs/conf-format.md`` lists the syntax and
every deliberate difference from Asterisk.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import re
import stat
import subprocess
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from ara_realtime.errors import ConfigError

if TYPE_CHECKING:
    from ara_realtime.conf.model import Category, Config

__all__ = ["MAX_INCLUDE_LEVEL", "MAX_NESTED_COMMENTS", "load_file", "load_string"]

log = logging.getLogger("ara_realtime.conf")

MAX_INCLUDE_LEVEL = 10
"""Files can be nested this many ``#include`` levels below the top-level file."""
MAX_NESTED_COMMENTS = 128
"""Deepest ``;-- --;`` block-comment nesting."""

Resolver = Callable[[str], "Config | None"]

_BLANKS = "".join(chr(i) for i in range(33))
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_UTF8_BOM = b"\xef\xbb\xbf"
_POSIX_CLASSES = {
    "[:alpha:]": "a-zA-Z",
    "[:digit:]": "0-9",
    "[:alnum:]": "a-zA-Z0-9",
    "[:upper:]": "A-Z",
    "[:lower:]": "a-z",
    "[:space:]": " \\t\\n\\r\\f\\v",
    "[:blank:]": " \\t",
    "[:xdigit:]": "0-9A-Fa-f",
    "[:punct:]": "!-/:-@\\[-`{-~",
}


def _strip(text: str) -> str:
    """``ast_strip``: drop bytes <= 0x20 at both ends."""
    return text.strip(_BLANKS)


def _fold(text: str) -> str:
    return text.translate(_ASCII_LOWER)


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
    loader.parse_text(_decode(data), name, _FileState(None), 1)


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
    loader.parse_text(text, filename, _FileState(None), 1)


# -- reading files -----------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8, or latin-1 for the whole file when it is not valid UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        # Keep the BOM recognisable so that line 1 drops it either way.
        return "\ufeff" + text[3:] if data.startswith(_UTF8_BOM) else text


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


# -- glob expansion (glibc glob with GLOB_NOMAGIC | GLOB_BRACE) ---------------------------------


def _expand(base: str, arg: str) -> list[str]:
    """The files an include argument names, in glibc's order (may include missing ones)."""
    alternatives = _braces(arg)
    if alternatives is None:
        return _glob_one(base, arg, nomagic=True)
    found: list[str] = []
    for alt in alternatives:
        found.extend(_glob_one(base, alt, nomagic=False))
    return found


def _braces(pattern: str) -> list[str] | None:
    """Brace alternatives in written order (nested braces expanded), or ``None`` if none."""
    start = -1
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "{":
            start = i
            break
        i += 1
    if start < 0:
        return None
    depth = 0
    commas: list[int] = []
    close = -1
    i = start
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                close = i
                break
        elif ch == "," and depth == 1:
            commas.append(i)
        i += 1
    if close < 0:
        return None
    cuts = [start, *commas, close]
    prefix, suffix = pattern[:start], pattern[close + 1 :]
    result: list[str] = []
    for lo, hi in itertools.pairwise(cuts):
        sub = prefix + pattern[lo + 1 : hi] + suffix
        more = _braces(sub)
        result.extend([sub] if more is None else more)
    return result


def _has_magic(pattern: str) -> bool:
    bracket = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "*?":
            return True
        if ch == "[":
            bracket = True
        elif ch == "]" and bracket:
            return True
        i += 1
    return False


def _glob_one(base: str, pattern: str, *, nomagic: bool) -> list[str]:
    absolute = pattern.startswith("/")
    full = pattern if absolute else os.path.join(base, pattern)
    if not _has_magic(pattern):
        return [full] if nomagic or os.path.lexists(full) else []
    current = ["/"] if absolute else [base]
    parts = [p for p in pattern.split("/") if p]
    for part in parts:
        nxt: list[str] = []
        if _has_magic(part):
            rx = _segment_regex(part)
            for folder in current:
                try:
                    names = os.listdir(folder)
                except OSError:
                    continue
                for entry in names:
                    if entry.startswith(".") and not part.startswith("."):
                        continue
                    if rx is not None and rx.fullmatch(entry):
                        nxt.append(os.path.join(folder, entry))
        else:
            literal = re.sub(r"\\(.)", r"\1", part)
            nxt = [
                os.path.join(f, literal)
                for f in current
                if os.path.lexists(os.path.join(f, literal))
            ]
        current = nxt
    return sorted(current, key=os.fsencode)


def _segment_regex(part: str) -> re.Pattern[str] | None:
    """One path component's glob pattern as a regex (``None`` if it is malformed)."""
    out: list[str] = []
    i, n = 0, len(part)
    while i < n:
        ch = part[i]
        if ch == "\\" and i + 1 < n:
            out.append(re.escape(part[i + 1]))
            i += 2
        elif ch == "*":
            out.append(".*")
            i += 1
        elif ch == "?":
            out.append(".")
            i += 1
        elif ch == "[":
            j = i + 1
            if j < n and part[j] in "!^":
                j += 1
            if j < n and part[j] == "]":
                j += 1
            end = part.find("]", j)
            if end < 0:
                out.append(re.escape(ch))
                i += 1
                continue
            body = part[i + 1 : end]
            negate = body[:1] in ("!", "^")
            if negate:
                body = body[1:]
            items: list[str] = []
            k = 0
            while k < len(body):
                if k + 2 < len(body) and body[k + 1] == "-":
                    items.append(f"{re.escape(body[k])}-{re.escape(body[k + 2])}")
                    k += 3
                else:
                    items.append(re.escape(body[k]))
                    k += 1
            out.append("[" + ("^" if negate else "") + "".join(items) + "]")
            i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error:
        return None


# -- category filters (does_category_match) -----------------------------------------------------


def _strip_quoted(text: str) -> str:
    """``ast_strip_quoted(s, "'\\"", "'\\"")``."""
    text = _strip(text)
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
def _regex(pattern: str) -> re.Pattern[str] | None:
    translated = pattern
    for posix, python in _POSIX_CLASSES.items():
        translated = translated.replace(posix, python)
    try:
        return re.compile(translated)
    except re.error as err:
        log.error("Regular expression '%s' failed to compile: %s", pattern, err)
        return None


def _category_matches(cat: Category, name: str, match: str, sep: str) -> bool:
    """``does_category_match``: name (if given) and all ``name_re=value_re`` terms match."""
    if name and _fold(cat.name) != _fold(name):
        return False
    if not match:
        return not cat.template
    found = expressions = 0
    template_ok = False
    rest: str | None = match
    while True:
        term, rest = _ast_strsep(rest, sep)
        if term is None:
            break
        expressions += 1
        match_name, tail = _ast_strsep(term, "=")
        match_value, _ = _ast_strsep(tail, "=")
        if match_name is None or match_value is None:
            break
        if match_name == "TEMPLATES":
            wanted = _fold(match_value)
            if wanted == "include":
                template_ok = template_ok or cat.template
                found += 1
            elif wanted == "restrict":
                if not cat.template:
                    break
                found += 1
                template_ok = True
            continue
        name_rx, value_rx = _regex(match_name), _regex(match_value)
        if name_rx is None or value_rx is None:
            return False
        if any(name_rx.search(v.name) and value_rx.search(v.value) for v in cat.variables):
            found += 1
    return found == expressions and (not cat.template or template_ok)


def _category_get(cfg: Config, name: str, match: str, sep: str) -> Category | None:
    """``category_get_sep``: the first category of the load that matches."""
    for cat in cfg._categories:
        if _category_matches(cat, name, match, sep):
            return cat
    return None


# -- the parser ---------------------------------------------------------------------------------


class _FileState:
    """What one ``config_text_file_load`` call keeps across lines (and across glob matches)."""

    __slots__ = ("cat", "comment", "nest")

    def __init__(self, cat: Category | None) -> None:
        self.cat = cat
        self.comment = 0
        self.nest: dict[int, int] = {}


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

    # lines

    def parse_text(self, text: str, filename: str, st: _FileState, level: int) -> None:
        """Parse one file's text; ``ConfigError`` ends it."""
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        for lineno, raw in enumerate(lines, 1):
            nul = raw.find("\0")
            if nul >= 0:
                raw = raw[:nul]
            if lineno == 1 and raw.startswith("\ufeff"):
                raw = raw[1:]
            line = self._uncomment(raw, st, filename, lineno)
            if line:
                self._line(line, st, filename, lineno, level)
        if st.comment:
            opened = st.nest.get(st.comment)
            where = f" beginning on line {opened}" if opened is not None else ""
            log.warning("%s: unterminated block comment detected%s", filename, where)

    def _uncomment(self, raw: str, st: _FileState, filename: str, lineno: int) -> str:
        """Remove comments exactly as Asterisk does; returns the stripped text to process.

        ``"\\0"`` marks where Asterisk writes a NUL (the start of a block comment); such marks
        only ever sit before ``new``, the scan position.
        """
        buf = raw
        new = 0
        process: int | None = 0 if st.comment == 0 else None
        while True:
            p = buf.find(";", new)
            if p < 0:
                break
            if p > new and buf[p - 1] == "\\":
                buf = buf[: p - 1] + buf[p:]  # "\;" is a literal ";"
                new = p
            elif buf[p + 1 : p + 3] == "--" and buf[p + 3 : p + 4] != "-":
                if st.comment >= MAX_NESTED_COMMENTS:
                    raise ConfigError(
                        f"block comments nested deeper than {MAX_NESTED_COMMENTS}",
                        filename,
                        lineno,
                    )
                buf = buf[:p] + "\0" + buf[p + 1 :]
                new = p + 3
                st.comment += 1
                st.nest[st.comment] = lineno
            elif p >= new + 2 and buf[p - 2 : p] == "--":
                st.comment -= 1
                new = p + 1
                if st.comment == 0:
                    if process is not None:
                        end = buf.find("\0", process)
                        end = len(buf) if end < 0 else end
                        buf = buf[:end] + buf[new:]
                        new = end
                    else:
                        process = new
            elif st.comment == 0:
                buf = buf[:p]
                break
            else:
                new = p + 1
        if process is None:
            return ""
        end = buf.find("\0", process)
        return _strip(buf[process:] if end < 0 else buf[process:end])

    def _line(self, text: str, st: _FileState, filename: str, lineno: int, level: int) -> None:
        if text[0] == "[":
            self._header(text, st, filename, lineno)
        elif text[0] == "#":
            self._directive(text, st, filename, lineno, level)
        else:
            self._variable(text, st, filename, lineno)

    # [category](options)

    def _header(self, text: str, st: _FileState, filename: str, lineno: int) -> None:
        close = text.find("]")
        if close < 0:
            raise ConfigError("no closing ']' in category header", filename, lineno)
        name = text[1:close]
        rest = text[close + 1 :]
        target = self.cfg._new_category(name, filename, lineno)
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
                    found = _category_get(self.cfg, name, option[1:], "&")
                    if found is None:
                        raise ConfigError(
                            f"category addition requested, but category {name!r} does not exist",
                            filename,
                            lineno,
                        )
                    target = st.cat = found
                    if newcat is not None:
                        self.current = found
                        found.template = found.template or newcat.template
                        found.variables.extend(newcat.variables)
                        newcat = None
                else:
                    base = _category_get(self.cfg, option, "TEMPLATES=include", ",")
                    if base is None:
                        raise ConfigError(
                            f"inheritance requested, but category {option!r} does not exist",
                            filename,
                            lineno,
                        )
                    target._inherit(base, option)
        if newcat is not None:
            self.cfg._append(newcat)
            self.current = newcat

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
            log.warning("%s:%d: no '=' (equal sign) in line, ignored", filename, lineno)
            return
        if eq > int(escaped) and cur[eq - 1] == "+":
            name = _strip(cur[: eq - 1])
            raw = cur[eq + 1 :]
            replace = None
            for var in cat.variables:
                if var.name == name:
                    replace = var
            if replace is not None:
                joined = (replace.value + raw).rstrip(_BLANKS).lstrip(_BLANKS)
                self._update(cat, replace.name, joined, replace.value)
                return
            self._new_variable(
                cat, name, _strip(raw), is_object=False, filename=filename, lineno=lineno
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

    @staticmethod
    def _new_variable(
        cat: Category, name: str, value: str, *, is_object: bool, filename: str, lineno: int
    ) -> None:
        if not name:
            log.warning("%s:%d: no variable name, line ignored", filename, lineno)
            return
        cat.append(name, value, object=is_object, file=filename, lineno=lineno)

    @staticmethod
    def _update(cat: Category, name: str, value: str, old: str) -> None:
        """``ast_variable_update``: replace the LAST case-insensitive match holding ``old``."""
        hit = None
        for var in cat.variables:
            if _fold(var.name) != _fold(name) or (old and _fold(var.value) != _fold(old)):
                continue
            hit = var
        if hit is not None:
            hit.name = name
            hit.value = value
            hit.inherited = False

    # #directive argument

    def _directive(self, text: str, st: _FileState, filename: str, lineno: int, level: int) -> None:
        body = text[1:]
        i = 0
        while i < len(body) and ord(body[i]) > 32:
            i += 1
        word = body[:i]
        arg = _strip(body[i:])
        kind = _fold(word)
        if kind == "exec" and not self.exec_includes:
            log.warning("%s:%d: #exec ignored (exec_includes is not enabled)", filename, lineno)
            return
        if kind not in ("include", "tryinclude", "exec"):
            log.warning("%s:%d: unknown directive '#%s', ignored", filename, lineno, word)
            return
        if not arg:
            log.warning("%s:%d: directive '#%s' needs an argument", filename, lineno, word)
            return
        if arg[0] in '"<' and arg[-1] == (">" if arg[0] == "<" else '"'):
            arg = arg[1:-1]
        if kind == "exec":
            output = self._run(arg, filename, lineno)
        else:
            if arg in self.included:
                log.warning("%s:%d: same file included more than once: %s", filename, lineno, arg)
            self.included.add(arg)
        if level == MAX_INCLUDE_LEVEL + 1:
            log.warning(
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
                count = len(self.cfg._categories)
                self.cfg.extend(spliced)
                if len(self.cfg._categories) > count:
                    self.current = self.cfg._categories[-1]
                return
        if not self._parse_nested(self._include_files(arg), level + 1) and kind == "include":
            raise ConfigError(
                f"the file {arg!r} was listed as a #include but it does not exist",
                filename,
                lineno,
            )

    def _include_files(self, arg: str) -> Iterator[tuple[str, bytes]]:
        """``(path, bytes)`` of every readable file ``arg`` names, read one by one."""
        for path in _expand(self.base_dir, arg):
            data = _read_include(path)
            if data is not None:
                yield path, data

    def _parse_nested(self, files: Iterable[tuple[str, bytes]], level: int) -> bool:
        """Parse included files in the config's current category; an error ends them only.

        Returns whether any file was read.
        """
        st = _FileState(self.current)
        count = 0
        try:
            for path, data in files:
                count += 1
                self.parse_text(_decode(data), path, st, level)
        except ConfigError as err:
            log.warning("%s (the rest of this included file is ignored)", err)
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
            log.warning("#exec <%s>: the program generated no usable output", command)
        return proc.stdout
