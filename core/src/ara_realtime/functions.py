"""Asterisk's REALTIME dialplan functions (``func_realtime``) over :class:`Realtime`.

``REALTIME``, ``REALTIME_FIELD``, ``REALTIME_HASH``, ``REALTIME_STORE`` and
``REALTIME_DESTROY``, with Asterisk's arguments and output formats, as Python functions and
through :func:`evaluate`, which takes the expression as the dialplan writes it::

    evaluate(rt, "${REALTIME(sippeers,name,alice)}").value  # "name=alice,host=dynamic,..."
    evaluate(rt, "REALTIME(sippeers,name,alice)").value  # the same
    evaluate(rt, "REALTIME(sippeers,name,alice,host)", "10.0.0.7").count  # Set(...=10.0.0.7)

Two of Asterisk's quirks are fixed (docs/functions.md): ``REALTIME`` and
``REALTIME_DESTROY`` do not end their output with a spare ``delim1``, and ``REALTIME_HASH``'s
lists do not start with a comma.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .datatypes import Row
from .errors import QueryError
from .realtime import Realtime

__all__ = [
    "FUNCTIONS",
    "FunctionResult",
    "evaluate",
    "realtime",
    "realtime_destroy",
    "realtime_field",
    "realtime_hash",
    "realtime_store",
    "realtime_write",
    "separate_args",
]

#: The channel variable ``REALTIME_HASH`` sets to the column names.
HASH_FIELDS_VARIABLE = "~ODBCFIELDS~"
#: The channel variable ``REALTIME_STORE`` sets to the number of rows stored.
STORE_ID_VARIABLE = "RTSTOREID"


def separate_args(text: str, delim: str = ",") -> list[str]:
    """Split dialplan function arguments as Asterisk does (``AST_STANDARD_APP_ARGS``).

    ``delim`` outside ``(...)``, ``[...]`` and ``"..."`` separates; double quotes are removed;
    a backslash makes the next character literal (and is removed). An empty text has no
    argument; a trailing delimiter adds an empty one. A backslash at the very end is kept.
    """
    if len(delim) != 1:
        raise QueryError(f"the delimiter must be one character, not {delim!r}")
    if not text:
        return []
    args: list[str] = []
    current: list[str] = []
    paren = bracket = 0
    quoted = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        i += 1
        if ch == "(":
            paren += 1
        elif ch == ")":
            paren = max(0, paren - 1)
        elif ch == "[":
            bracket += 1
        elif ch == "]":
            bracket = max(0, bracket - 1)
        elif ch == '"' and delim != '"':
            quoted = not quoted
            continue  # the quote itself is removed
        elif ch == "\\":
            if i < n:
                current.append(text[i])  # the next character, literally
                i += 1
                continue
        elif ch == delim and not paren and not quoted and not bracket:
            args.append("".join(current))
            current = []
            continue
        current.append(ch)
    args.append("".join(current))
    return args


@dataclass(frozen=True)
class FunctionResult:
    """What evaluating a function gives.

    ``value``: the text a read returns, None when the read fails (no row, as Asterisk's
    empty result); always None for a write. ``variables``: channel variables the function
    sets. ``count``: rows updated, stored or deleted (writes and ``REALTIME_DESTROY``).
    """

    value: str | None
    variables: dict[str, str] = field(default_factory=dict)
    count: int | None = None


# -- the functions ---------------------------------------------------------------------------


def _format(row: Row, delim1: str, delim2: str) -> str:
    """``name<delim2>value`` per column, joined by ``delim1`` (Asterisk adds one at the end)."""
    return delim1.join(f"{name}{delim2}{value}" for name, value in row.items())


def _lookup(rt: Realtime, family: str, fieldmatch: str, matchvalue: str) -> Row | None:
    if not family or not fieldmatch:
        raise QueryError("family and fieldmatch must not be empty")
    return rt.load(family, (fieldmatch, matchvalue))


def realtime(
    rt: Realtime,
    family: str,
    fieldmatch: str,
    matchvalue: str = "",
    *,
    delim1: str = ",",
    delim2: str = "=",
) -> str | None:
    """``REALTIME(family,fieldmatch[,matchvalue[,delim1[,delim2]]])``: the row where
    ``fieldmatch`` matches ``matchvalue`` as ``name=value,name=value``; None without one.

    ``fieldmatch`` may carry an operator (``"name LIKE"``). Columns that are NULL or empty
    are left out (ara-realtime never returns them).
    """
    row = _lookup(rt, family, fieldmatch, matchvalue)
    return None if row is None else _format(row, delim1, delim2)


def realtime_write(
    rt: Realtime, family: str, fieldmatch: str, matchvalue: str, *, field: str, value: str
) -> int:
    """``Set(REALTIME(family,fieldmatch,matchvalue,field)=value)`` (also
    ``REALTIME_FIELD``): set ``field`` in the matching rows; the number of rows matched."""
    if not family or not fieldmatch or not field:
        raise QueryError("family, fieldmatch and the field to set must not be empty")
    return rt.update(family, fieldmatch, matchvalue, {field: value})


def realtime_field(
    rt: Realtime, family: str, fieldmatch: str, matchvalue: str, fieldname: str
) -> str | None:
    """``REALTIME_FIELD(family,fieldmatch,matchvalue,fieldname)``: one column of the row
    (name compared case-insensitively); ``""`` when the row lacks it, None without a row."""
    row = _lookup(rt, family, fieldmatch, matchvalue)
    if row is None:
        return None
    wanted = fieldname.lower()
    return next((v for k, v in row.items() if k.lower() == wanted), "")


def _escape_commas(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,")


def realtime_hash(
    rt: Realtime, family: str, fieldmatch: str, matchvalue: str
) -> tuple[str, str] | None:
    """``REALTIME_HASH(family,fieldmatch,matchvalue)``: ``(names, values)``, each
    comma-separated with ``,`` and ``\\`` escaped by a backslash, ready for ``HASH()``
    (Asterisk sets channel variable ``~ODBCFIELDS~`` to the names); None without a row."""
    row = _lookup(rt, family, fieldmatch, matchvalue)
    if row is None:
        return None
    names = ",".join(_escape_commas(k) for k in row)
    values = ",".join(_escape_commas(v) for v in row.values())
    return names, values


def realtime_store(rt: Realtime, family: str, fields: Sequence[str], values: Sequence[str]) -> int:
    """``Set(REALTIME_STORE(family,field1,...)=value1,...)``: insert one row; the number
    stored (1), which Asterisk puts in ``RTSTOREID``."""
    if not family:
        raise QueryError("family must not be empty")
    if not fields:
        raise QueryError("REALTIME_STORE needs at least one field")
    if len(fields) != len(values):
        raise QueryError(
            f"REALTIME_STORE got {len(fields)} field{'s' if len(fields) != 1 else ''} and "
            f"{len(values)} value{'s' if len(values) != 1 else ''}; they must pair up"
        )
    row: dict[str, str] = {}
    for name, value in zip(fields, values):
        if name in row:
            raise QueryError(f"REALTIME_STORE names field {name!r} twice")
        row[name] = value
    return rt.store(family, row)


def realtime_destroy(
    rt: Realtime,
    family: str,
    fieldmatch: str,
    matchvalue: str = "",
    *,
    delim1: str = ",",
    delim2: str = "=",
) -> tuple[str, int] | None:
    """``REALTIME_DESTROY(family,fieldmatch[,matchvalue[,delim1[,delim2]]])``: read a row
    as ``REALTIME`` does, then delete every row where ``fieldmatch`` matches; ``(the row as
    text, rows deleted)``. Without a row nothing is deleted and the result is None."""
    row = _lookup(rt, family, fieldmatch, matchvalue)
    if row is None:
        return None
    text = _format(row, delim1, delim2)
    return text, rt.destroy(family, fieldmatch, matchvalue)


# -- evaluate("NAME(args)") ------------------------------------------------------------------

#: name -> (least and most arguments when read, when written; None: cannot be)
FUNCTIONS: dict[str, tuple[tuple[int, int] | None, tuple[int, int] | None]] = {
    "REALTIME": ((2, 5), (4, 4)),
    "REALTIME_FIELD": ((4, 4), (4, 4)),
    "REALTIME_HASH": ((3, 3), None),
    "REALTIME_STORE": (None, (2, 1 << 30)),
    "REALTIME_DESTROY": ((2, 5), (2, 5)),
}

_SYNTAX = {
    "REALTIME": "REALTIME(family,fieldmatch[,matchvalue[,delim1[,delim2]]])",
    "REALTIME_FIELD": "REALTIME_FIELD(family,fieldmatch,matchvalue,fieldname)",
    "REALTIME_HASH": "REALTIME_HASH(family,fieldmatch,matchvalue)",
    "REALTIME_STORE": "REALTIME_STORE(family,field1[,field2...])=value1[,value2...]",
    "REALTIME_DESTROY": "REALTIME_DESTROY(family,fieldmatch[,matchvalue[,delim1[,delim2]]])",
}
_WRITE_SYNTAX = {
    "REALTIME": "REALTIME(family,fieldmatch,matchvalue,field)=value",
    "REALTIME_FIELD": "REALTIME_FIELD(family,fieldmatch,matchvalue,field)=value",
}


def _unbraced(expression: str) -> tuple[str, bool]:
    """The expression without the ``${...}`` a dialplan reads a function in; whether it
    had one."""
    text = expression.strip()
    if text.startswith("${"):
        if not text.endswith("}"):
            raise QueryError(
                f"expected FUNCTION(arguments) or ${{FUNCTION(arguments)}}, got {expression!r}"
            )
        return text[2:-1], True
    if text.startswith("$["):
        raise QueryError(
            f"{expression!r} is a dialplan expression ($[...]), not a function: write "
            "FUNCTION(arguments) or ${FUNCTION(arguments)}"
        )
    return text, False


def parse_expression(expression: str) -> tuple[str, list[str]]:
    """``NAME(arguments)``, or ``${NAME(arguments)}`` as the dialplan reads it -> (NAME,
    arguments as Asterisk separates them).

    Arguments holding ``${...}`` or ``$[...]`` are refused: there is no channel whose
    variables they would be substituted from, so they would be taken literally."""
    text, _ = _unbraced(expression)
    name, paren, rest = text.partition("(")
    if not paren or not rest.endswith(")"):
        raise QueryError(
            f"expected FUNCTION(arguments) or ${{FUNCTION(arguments)}}, got {expression!r}"
        )
    name = name.strip()
    if name not in FUNCTIONS:
        known = ", ".join(FUNCTIONS)
        raise QueryError(f"unknown function {name!r} (one of {known}; names are case-sensitive)")
    if "${" in rest or "$[" in rest:
        raise QueryError(
            f"the arguments of {name} hold ${{...}} or $[...], which the dialplan substitutes "
            "from a channel; there is none here: give their values"
        )
    return name, separate_args(rest[:-1])


def evaluate(rt: Realtime, expression: str, value: str | None = None) -> FunctionResult:
    """Read ``expression`` (``REALTIME(...)`` or ``${REALTIME(...)}``), or write ``value``
    to it (``Set(REALTIME(...)=value)``: ``REALTIME(...)``, no ``${...}``) when ``value``
    is given."""
    if value is not None and _unbraced(expression)[1]:
        raise QueryError(
            "a function is written as Set(FUNCTION(arguments)=value), without ${...} (which "
            "reads it): give FUNCTION(arguments)"
        )
    name, args = parse_expression(expression)
    reading, writing = FUNCTIONS[name]
    allowed = reading if value is None else writing
    if allowed is None:
        raise QueryError(f"{name} cannot be {'read' if value is None else 'written'}")
    least, most = allowed
    if not least <= len(args) <= most:
        syntax = _SYNTAX[name] if value is None else _WRITE_SYNTAX.get(name, _SYNTAX[name])
        raise QueryError(f"{name} takes {_count(least, most)}, got {len(args)}: {syntax}")
    if value is None:
        return _read(rt, name, args)
    return _write(rt, name, args, value)


def _count(least: int, most: int) -> str:
    if least == most:
        return f"{least} argument{'s' if least != 1 else ''}"
    if most >= 1 << 30:
        return f"at least {least} arguments"
    return f"{least} to {most} arguments"


def _read(rt: Realtime, name: str, args: list[str]) -> FunctionResult:
    if name in ("REALTIME", "REALTIME_DESTROY"):
        family, fieldmatch, *rest = args
        matchvalue = rest[0] if rest else ""
        delim1 = rest[1] if len(rest) > 1 else ","  # given empty: empty, as in Asterisk
        delim2 = rest[2] if len(rest) > 2 else "="
        if name == "REALTIME":
            text = realtime(rt, family, fieldmatch, matchvalue, delim1=delim1, delim2=delim2)
            return FunctionResult(text)
        done = realtime_destroy(rt, family, fieldmatch, matchvalue, delim1=delim1, delim2=delim2)
        if done is None:
            return FunctionResult(None, count=0)
        return FunctionResult(done[0], count=done[1])
    if name == "REALTIME_FIELD":
        return FunctionResult(realtime_field(rt, *args))
    hashed = realtime_hash(rt, *args)  # REALTIME_HASH
    if hashed is None:
        return FunctionResult(None)
    return FunctionResult(hashed[1], {HASH_FIELDS_VARIABLE: hashed[0]})


def _write(rt: Realtime, name: str, args: list[str], value: str) -> FunctionResult:
    if name in ("REALTIME", "REALTIME_FIELD"):
        family, fieldmatch, matchvalue, column = args
        n = realtime_write(rt, family, fieldmatch, matchvalue, field=column, value=value)
        return FunctionResult(None, count=n)
    if name == "REALTIME_STORE":
        # values split like arguments; an empty text is one empty value
        n = realtime_store(rt, args[0], args[1:], separate_args(value) or [""])
        return FunctionResult(None, {STORE_ID_VARIABLE: str(n)}, n)
    family, fieldmatch, *rest = args  # REALTIME_DESTROY(...)=anything
    done = realtime_destroy(rt, family, fieldmatch, rest[0] if rest else "")
    return FunctionResult(None, count=0 if done is None else done[1])
