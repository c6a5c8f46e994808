"""POSIX extended regular expressions as glibc's ``regcomp(REG_EXTENDED | REG_NOSUB)`` reads
them, searched in time linear in the text.

Asterisk's ``(+filter)`` only asks *whether* a pattern matches somewhere in a string, so no
submatch or leftmost-longest bookkeeping is needed: the pattern becomes a Thompson automaton
whose state sets are explored lazily (a cached DFA). That never backtracks, unlike Python's
``re``, so ``^a*a*a*...$`` costs the same as ``^a*$``. Work is metered by a :class:`Meter`
so a caller can bound the total.

Syntax (checked against glibc 2.36 in the ``C.UTF-8`` locale Asterisk sets): ``|``, ``( )``,
``* + ?``, ``{m}`` ``{m,}`` ``{,n}`` ``{m,n}``, ``.``, bracket expressions with ranges,
``[:class:]``, ``[=c=]`` and ``[.c.]``, anchors ``^ $`` anywhere, GNU ``\\w \\W \\s \\S \\b \\B
\\< \\> \\` \\'``; any other escaped character is literal. A repetition operator at the start of
the pattern, after ``(`` or ``|``, or after an anchor is an error; an unmatched ``)`` is literal.
Back-references (``\\1``) are refused: they cannot be matched in linear time.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from ara_realtime.conf.limits import MAX_REGEX_NESTING, MAX_REGEX_STATES

__all__ = ["Meter", "Regex", "RegexError", "RegexLimitError", "WorkExceeded", "compile_ere"]


class RegexError(ValueError):
    """The pattern does not compile: glibc refuses it too."""


class RegexLimitError(RegexError):
    """glibc would compile the pattern, but it is beyond what this engine accepts."""


class WorkExceeded(Exception):
    """A :class:`Meter` ran out."""


class Meter:
    """A work allowance shared by many searches."""

    __slots__ = ("left",)

    def __init__(self, units: int) -> None:
        self.left = units

    def spend(self, units: int) -> None:
        self.left -= units
        if self.left < 0:
            raise WorkExceeded


# -- character classes -----------------------------------------------------------------------------

_NO_BREAK = "\u00a0\u2007\u202f"


# glibc's i18n tables call combining marks and non-ASCII digits letters too.
_ALPHA_TOO = frozenset(("Mn", "Mc", "Nd", "Nl"))
_NOT_PRINT = frozenset(("Cc", "Cn", "Cs", "Zl", "Zp"))


def _alpha(c: str) -> bool:
    return c.isalpha() or (c > "\x7f" and unicodedata.category(c) in _ALPHA_TOO)


def _digit(c: str) -> bool:
    return "0" <= c <= "9"


def _alnum(c: str) -> bool:
    return "0" <= c <= "9" or _alpha(c)


def _space(c: str) -> bool:
    return c in " \t\n\r\f\v" or (c > "\x7f" and c.isspace() and c not in _NO_BREAK)


def _blank(c: str) -> bool:
    return c in " \t" or (c > "\x7f" and unicodedata.category(c) == "Zs" and c not in _NO_BREAK)


def _cntrl(c: str) -> bool:
    return unicodedata.category(c) == "Cc"


def _print(c: str) -> bool:
    if c < "\x7f":
        return c >= " "
    return unicodedata.category(c) not in _NOT_PRINT


def _graph(c: str) -> bool:
    return c != " " and _print(c)


def _punct(c: str) -> bool:
    return _graph(c) and not _alnum(c)


_CLASSES: dict[str, Callable[[str], bool]] = {
    "alpha": _alpha,
    "digit": _digit,
    "alnum": _alnum,
    "upper": str.isupper,
    "lower": str.islower,
    "space": _space,
    "blank": _blank,
    "cntrl": _cntrl,
    "print": _print,
    "graph": _graph,
    "punct": _punct,
    "xdigit": lambda c: c in "0123456789ABCDEFabcdef",
}


def _word(c: str) -> bool:
    return c == "_" or _alnum(c)


# -- parsing ---------------------------------------------------------------------------------------

_Test = str | Callable[[str], bool]  # one character, or a predicate


class _Char:
    __slots__ = ("test",)

    def __init__(self, test: _Test) -> None:
        self.test = test


class _Assert:
    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind


class _Cat:
    __slots__ = ("items",)

    def __init__(self, items: list[_Node]) -> None:
        self.items = items


class _Alt:
    __slots__ = ("items",)

    def __init__(self, items: list[_Node]) -> None:
        self.items = items


class _Rep:
    __slots__ = ("body", "high", "low")

    def __init__(self, body: _Node, low: int, high: int | None) -> None:
        self.body = body
        self.low = low
        self.high = high


_Node = _Char | _Assert | _Cat | _Alt | _Rep


def _any(c: str) -> bool:
    return True


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.depth = 0
        self.groups = 0  # groups closed so far: what a back-reference may name

    def fail(self, message: str) -> RegexError:
        return RegexError(message)

    def parse(self) -> _Node:
        # A ')' at depth 0 is a literal, so the top-level alternation consumes everything.
        return self.alternation()

    def alternation(self) -> _Node:
        branches = [self.branch()]
        while self.i < len(self.p) and self.p[self.i] == "|":
            self.i += 1
            branches.append(self.branch())
        return branches[0] if len(branches) == 1 else _Alt(branches)

    def branch(self) -> _Node:
        items: list[_Node] = []
        p = self.p
        while self.i < len(p):
            ch = p[self.i]
            if ch == "|" or (ch == ")" and self.depth):
                break
            items.append(self.quantified(self.atom()))
        return items[0] if len(items) == 1 else _Cat(items)

    def quantified(self, node: _Node) -> _Node:
        p = self.p
        while self.i < len(p) and p[self.i] in "*+?{":
            if isinstance(node, _Assert):
                raise self.fail("Invalid preceding regular expression")
            ch = p[self.i]
            self.i += 1
            if ch == "*":
                node = _Rep(node, 0, None)
            elif ch == "+":
                node = _Rep(node, 1, None)
            elif ch == "?":
                node = _Rep(node, 0, 1)
            else:
                low, high = self.interval()
                node = _Rep(node, low, high)
        return node

    def interval(self) -> tuple[int, int | None]:
        p = self.p
        close = p.find("}", self.i)
        if close < 0:
            raise self.fail("Unmatched \\{")
        body = p[self.i : close]
        self.i = close + 1
        low_text, comma, high_text = body.partition(",")
        if not all(
            part == "" or (part.isascii() and part.isdigit()) for part in (low_text, high_text)
        ):
            raise self.fail("Invalid content of \\{\\}")
        if not body or (not comma and not low_text):
            raise self.fail("Invalid content of \\{\\}")
        low = int(low_text) if low_text else 0
        high = None if comma and not high_text else int(high_text or low_text)
        if high is not None and high < low:
            raise self.fail("Invalid content of \\{\\}")
        if low > 0x7FFF or (high is not None and high > 0x7FFF):
            raise self.fail("Regular expression too big")
        return low, high

    def atom(self) -> _Node:
        p = self.p
        ch = p[self.i]
        self.i += 1
        if ch in "*+?{":
            raise self.fail("Invalid preceding regular expression")
        if ch == "(":
            self.depth += 1
            if self.depth > MAX_REGEX_NESTING:
                raise RegexLimitError(f"parentheses nested deeper than {MAX_REGEX_NESTING}")
            node = self.alternation()
            if self.i >= len(p):
                raise self.fail("Unmatched ( or \\(")
            self.i += 1  # the ')'
            self.depth -= 1
            self.groups += 1
            # A group is an atom even when it holds only an anchor: "(^)*" is fine.
            return _Cat([node]) if isinstance(node, _Assert) else node
        if ch == ".":
            return _Char(_any)
        if ch == "[":
            return _Char(self.bracket())
        if ch == "^":
            return _Assert("bol")
        if ch == "$":
            return _Assert("eol")
        if ch == "\\":
            if self.i >= len(p):
                raise self.fail("Trailing backslash")
            ch = p[self.i]
            self.i += 1
            return self.escape(ch)
        return _Char(ch)

    def escape(self, ch: str) -> _Node:
        if ch in "123456789":
            if int(ch) > self.groups:
                raise self.fail("Invalid back reference")
            raise RegexLimitError("back-references (\\1 to \\9) are not supported")
        classes: dict[str, _Test] = {
            "w": _word,
            "W": lambda c: not _word(c),
            "s": _space,
            "S": lambda c: not _space(c),
        }
        if ch in classes:
            return _Char(classes[ch])
        kinds = {"b": "word", "B": "notword", "<": "wordstart", ">": "wordend", "`": "bol"}
        if ch in kinds:
            return _Assert(kinds[ch])
        if ch == "'":
            return _Assert("eol")
        return _Char(ch)

    def bracket(self) -> _Test:
        p = self.p
        negate = self.i < len(p) and p[self.i] == "^"
        if negate:
            self.i += 1
        chars: set[str] = set()
        ranges: list[tuple[str, str]] = []
        tests: list[Callable[[str], bool]] = []
        first = True
        while True:
            if self.i >= len(p):
                raise self.fail("Unmatched [, [^, [:, [., or [=")
            if p[self.i] == "]" and not first:
                self.i += 1
                break
            first = False
            start = self.element()
            is_range = self.i + 1 < len(p) and p[self.i] == "-" and p[self.i + 1] != "]"
            if not isinstance(start, str):
                if is_range:
                    raise self.fail("Invalid range end")
                tests.append(start)
                continue
            if not is_range:
                chars.add(start)
                continue
            self.i += 1
            end = self.element()
            if not isinstance(end, str) or end < start:
                raise self.fail("Invalid range end")
            ranges.append((start, end))
            if self.i + 1 < len(p) and p[self.i] == "-" and p[self.i + 1] != "]":
                raise self.fail("Invalid range end")
        frozen = frozenset(chars)

        def test(c: str) -> bool:
            hit = c in frozen or any(lo <= c <= hi for lo, hi in ranges) or any(t(c) for t in tests)
            return hit != negate

        return test

    def element(self) -> str | Callable[[str], bool]:
        """One bracket item: a character, or a class predicate."""
        p = self.p
        if p[self.i] == "[" and self.i + 1 < len(p) and p[self.i + 1] in ":=.":
            kind = p[self.i + 1]
            close = p.find(kind + "]", self.i + 2)
            if close < 0:
                raise self.fail("Unmatched [, [^, [:, [., or [=")
            body = p[self.i + 2 : close]
            self.i = close + 2
            if kind == ":":
                if body not in _CLASSES:
                    raise self.fail("Invalid character class name")
                return _CLASSES[body]
            if len(body) != 1:
                raise self.fail("Invalid collation character")
            return body
        ch = p[self.i]
        self.i += 1
        return ch


# -- the automaton ---------------------------------------------------------------------------------

_CHAR, _SPLIT, _ASSERT, _MATCH = range(4)
_BEGIN, _END, _WORD, _OTHER = range(4)  # context of a position's neighbour


def _depth(ast: _Node) -> int:
    deepest = 0
    todo = [(ast, 1)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        if isinstance(node, (_Cat, _Alt)):
            todo.extend((n, depth + 1) for n in node.items)
        elif isinstance(node, _Rep):
            todo.append((node.body, depth + 1))
    return deepest


def _size(node: _Node) -> int:
    """States ``node`` compiles to (computed before building, so a blow-up is refused first)."""
    if isinstance(node, (_Char, _Assert)):
        return 1
    if isinstance(node, (_Cat, _Alt)):
        return sum(_size(n) for n in node.items) + isinstance(node, _Alt)
    copies = node.low + (1 if node.high is None else node.high - node.low)
    return min(copies * (_size(node.body) + 1), MAX_REGEX_STATES + 1)


class Regex:
    """A compiled pattern; :meth:`search` is safe to call from several threads."""

    __slots__ = ("_final", "_kinds", "_literal", "_nexts", "_start", "_tests", "_trans", "pattern")

    def __init__(self, pattern: str, ast: _Node) -> None:
        self.pattern = pattern
        self._kinds: list[int] = []
        self._tests: list[_Test | str | None] = []  # a test, an assertion kind, or nothing
        self._nexts: list[list[int]] = []
        self._literal = _literal(ast)
        match = self._add(_MATCH, None, [])
        self._start = self._build(ast, match)
        # Cached DFA transitions: (state set, context before, character) -> the step.
        self._trans: dict[tuple[frozenset[int], int, str], tuple[bool, frozenset[int], int]] = {}
        self._final: dict[tuple[frozenset[int], int], bool] = {}

    def _add(self, kind: int, test: _Test | None, nexts: list[int]) -> int:
        self._kinds.append(kind)
        self._tests.append(test)
        self._nexts.append(nexts)
        return len(self._kinds) - 1

    def _build(self, node: _Node, nxt: int) -> int:
        """The state that matches ``node`` and then continues at ``nxt``."""
        if isinstance(node, _Char):
            return self._add(_CHAR, node.test, [nxt])
        if isinstance(node, _Assert):
            return self._add(_ASSERT, node.kind, [nxt])
        if isinstance(node, _Cat):
            for item in reversed(node.items):
                nxt = self._build(item, nxt)
            return nxt
        if isinstance(node, _Alt):
            starts = [self._build(b, nxt) for b in node.items]
            return self._add(_SPLIT, None, starts)
        if node.high is None:
            loop = self._add(_SPLIT, None, [])
            self._nexts[loop].extend([self._build(node.body, loop), nxt])
            tail = loop
        else:
            tail = nxt
            for _ in range(node.high - node.low):
                tail = self._add(_SPLIT, None, [self._build(node.body, tail), nxt])
        for _ in range(node.low):
            tail = self._build(node.body, tail)
        return tail

    # searching

    def search(self, text: str, meter: Meter) -> bool:
        """Whether the pattern matches anywhere in ``text`` (``regexec`` returning 0)."""
        nul = text.find("\0")
        if nul >= 0:
            text = text[:nul]  # C strings end there
        literal = self._literal
        if literal is not None:
            meter.spend(1)
            body, bol, eol = literal
            if bol and eol:
                return text == body
            if bol:
                return text.startswith(body)
            if eol:
                return text.endswith(body)
            return body in text
        meter.spend(len(text) + 1)
        trans = self._trans
        state: frozenset[int] = frozenset()
        ctx = _BEGIN
        for c in text:
            step = trans.get((state, ctx, c))
            if step is None:
                step = self._step(state, ctx, c, meter)
            if step[0]:
                return True
            _, state, ctx = step
        final = self._final.get((state, ctx))
        if final is None:
            final = self._step(state, ctx, None, meter)[0]
            self._final[(state, ctx)] = final
        return final

    def _step(
        self, state: frozenset[int], ctx: int, c: str | None, meter: Meter
    ) -> tuple[bool, frozenset[int], int]:
        """Follow the empty moves from ``state`` (plus a fresh start) before ``c``, then ``c``."""
        after = _END if c is None else _WORD if _word(c) else _OTHER
        kinds, tests, nexts = self._kinds, self._tests, self._nexts
        stack = [*state, self._start]
        seen: set[int] = set()
        consuming: list[int] = []
        matched = False
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            kind = kinds[pc]
            if kind == _CHAR:
                consuming.append(pc)
            elif kind == _SPLIT:
                stack.extend(nexts[pc])
            elif kind == _ASSERT:
                if _holds(str(tests[pc]), ctx, after):
                    stack.append(nexts[pc][0])
            else:
                matched = True
                break
        meter.spend(len(seen) + len(consuming))
        if matched or c is None:
            return (matched, frozenset(), after)
        targets = []
        for pc in consuming:
            test = tests[pc]
            if test == c if isinstance(test, str) else test(c):  # type: ignore[misc]
                targets.append(nexts[pc][0])
        step = (False, frozenset(targets), after)
        if len(self._trans) >= 4 * MAX_REGEX_STATES:
            self._trans.clear()  # a cache, not a record: rebuilt as needed
        self._trans[(state, ctx, c)] = step
        return step


def _holds(kind: str, before: int, after: int) -> bool:
    if kind == "bol":
        return before == _BEGIN
    if kind == "eol":
        return after == _END
    word_before, word_after = before == _WORD, after == _WORD
    if kind == "word":
        return word_before != word_after
    if kind == "notword":
        return word_before == word_after
    if kind == "wordstart":
        return not word_before and word_after
    return word_before and not word_after  # wordend


def _literal(ast: _Node) -> tuple[str, bool, bool] | None:
    """``(text, anchored at start, anchored at end)`` for a pattern of plain characters."""
    items = ast.items if isinstance(ast, _Cat) else [ast]
    first, last = items[:1], items[-1:]
    bol = bool(first) and isinstance(first[0], _Assert) and first[0].kind == "bol"
    eol = len(items) > bol and isinstance(last[0], _Assert) and last[0].kind == "eol"
    text: list[str] = []
    for node in items[int(bol) : len(items) - int(eol)]:
        if not isinstance(node, _Char) or not isinstance(node.test, str):
            return None
        text.append(node.test)
    return "".join(text), bol, eol


def compile_ere(pattern: str) -> Regex:
    """Compile ``pattern``; :class:`RegexError` if glibc would refuse it or it is too large."""
    ast = _Parser(pattern).parse()
    # Building recurses along the tree, so its depth (groups and stacked repetitions like
    # "a****") is bounded first; the parser itself recurses on groups only, checked there.
    if _depth(ast) > MAX_REGEX_NESTING:
        raise RegexLimitError(f"groups and repetitions nested deeper than {MAX_REGEX_NESTING}")
    if _size(ast) > MAX_REGEX_STATES:
        raise RegexLimitError(f"more than {MAX_REGEX_STATES} states after expanding repetitions")
    return Regex(pattern, ast)
