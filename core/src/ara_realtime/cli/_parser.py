"""The ``realtime`` command line, built from one table of commands."""

from __future__ import annotations

import argparse
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from ._commands import (
    Handler,
    _cmd_cache_install,
    _cmd_cache_remove,
    _cmd_cache_stats,
    _cmd_config_export,
    _cmd_config_import,
    _cmd_config_show,
    _cmd_destroy,
    _cmd_drivers,
    _cmd_export,
    _cmd_function,
    _cmd_import,
    _cmd_load,
    _cmd_load_multi,
    _cmd_mappings,
    _cmd_new_driver,
    _cmd_schema,
    _cmd_status,
    _cmd_store,
    _cmd_switch,
    _cmd_update,
    _cmd_update2,
    _version_text,
    _with_realtime,
)
from ._output import _EPILOG, ENV_CONFIG_DIR, EXIT_OK, EXIT_USAGE, PROG, _write

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

_MAX_UPDATE2_PAIRS = 5  # Asterisk's update2 takes at most 5 lookup pairs (argc 8-16)


# -- checks after parsing (argparse cannot count pairs) -----------------------------------


def _pairs(
    args: argparse.Namespace, words: Sequence[str], where: str = ""
) -> list[tuple[str, str]]:
    if len(words) % 2:
        _usage(
            args,
            f"expected COL VAL pairs{where}, got {len(words)} word{'s' if len(words) > 1 else ''}"
            f": {words[-1]!r} has no value",
        )
    return list(zip(words[::2], words[1::2]))


def _prepare_pairs(args: argparse.Namespace) -> None:
    args.pairs = _pairs(args, args.pairs)


def _prepare_destroy(args: argparse.Namespace) -> None:
    args.pairs = [(args.key_column, args.key_value), *_pairs(args, args.pairs)]


def _prepare_update2(args: argparse.Namespace) -> None:
    if args.null != "NULL":
        _usage(
            args,
            f"the third word from the end must be NULL (... NULL SETCOL NEWVAL), got {args.null!r}",
        )
    args.pairs = _pairs(args, args.pairs, " before NULL")
    if len(args.pairs) > _MAX_UPDATE2_PAIRS:
        _usage(args, f"at most {_MAX_UPDATE2_PAIRS} COL VAL pairs, got {len(args.pairs)}")


def _prepare_schema(args: argparse.Namespace) -> None:
    chosen = [f"--{flag}" for flag in ("dialect", "create", "check") if getattr(args, flag)]
    if len(chosen) != 1:
        _usage(
            args,
            "give exactly one of --dialect NAME, --create, --check, "
            f"not {' '.join(chosen) or 'none'}",
        )
    if not args.dialect and not args.families:
        _usage(args, f"{chosen[0]} needs at least one FAMILY (or NAME.conf for a static file)")


def _usage(args: argparse.Namespace, message: str) -> NoReturn:
    """A mistake argparse could not see: usage and one error line, like its own errors."""
    parser: argparse.ArgumentParser = args.command_parser
    parser.error(message)


# -- parser ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Usage errors read ``realtime: error: [COMMAND: ]MESSAGE`` after the command's usage."""

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        # argparse would drop a closed pipe silently (status 0); report it like any output
        _write(file or sys.stdout, self.format_help())

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        command = self.prog.removeprefix(PROG).strip()
        self.exit(EXIT_USAGE, f"{PROG}: error: {command + ': ' if command else ''}{message}\n")


class _Format(argparse.Action):
    """``--json`` / ``--plain``, accepted before the command and after its words.

    Each parser has its own copy and argparse's exclusive group only sees one parser, so the
    copies share ``chosen`` to refuse ``--json load ... --plain`` as well.
    """

    def __init__(
        self,
        option_strings: Sequence[str],
        dest: str,
        *,
        const: str,
        chosen: dict[str, str],
        default: Any = argparse.SUPPRESS,
        help: str | None = None,
    ) -> None:
        super().__init__(option_strings, dest, nargs=0, const=const, default=default, help=help)
        self.chosen = chosen

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        for mode, flag in self.chosen.items():
            if mode != self.const:
                parser.error(f"argument {option_string}: not allowed with argument {flag}")
        self.chosen.setdefault(self.const, option_string or self.const)
        setattr(namespace, self.dest, self.const)


class _Version(argparse.Action):
    """``--version``: built only when asked, since listing drivers imports them."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        _write(sys.stdout, _version_text())
        parser.exit(EXIT_OK)


def _add_common(parser: argparse.ArgumentParser, chosen: dict[str, str], *, top: bool) -> None:
    """``--config-dir``, ``--json``, ``--plain`` on one parser.

    Below the top level the defaults are ``SUPPRESS``: a subcommand's namespace is copied
    over the top one, and a default there would undo an option given before the command.
    """
    group = parser.add_argument_group("common options (before the command or after its words)")
    group.add_argument(
        "--config-dir",
        metavar="DIR",
        default=os.environ.get(ENV_CONFIG_DIR, "/etc/asterisk") if top else argparse.SUPPRESS,
        help=f"directory holding extconfig.conf and the drivers' res_*.conf files "
        f"(default: ${ENV_CONFIG_DIR}, else /etc/asterisk)",
    )
    fmt = group.add_mutually_exclusive_group()
    default = "auto" if top else argparse.SUPPRESS
    fmt.add_argument(
        "--json",
        dest="mode",
        action=_Format,
        const="json",
        chosen=chosen,
        default=default,
        help="print JSON",
    )
    fmt.add_argument(
        "--plain",
        dest="mode",
        action=_Format,
        const="plain",
        chosen=chosen,
        default=default,
        help="print plain text, as Asterisk's own CLI does (default: a table when rich is "
        "installed, else plain)",
    )


Prepare = Callable[[argparse.Namespace], None]

_PAIR = 'a column (an operator may follow, quoted: "name LIKE") and the value to match'

#: Arguments: key -> (dest, nargs, metavar, help); help goes through %-formatting. A dest
#: starting with "-" is an option, taking a value unless nargs is "0".
_ARGS: dict[str, tuple[str, str | None, str, str]] = {
    "family": ("family", None, "FAMILY", "a family mapped in extconfig.conf: sippeers, ..."),
    "column": (
        "column",
        None,
        "COLUMN",
        'column to match; an operator may follow in the same argument, quoted: "name LIKE" '
        "(one of = != < <= > >= LIKE, NOT LIKE; default =)",
    ),
    "value": ("value", None, "VALUE", "value to match (LIKE: %% any text, _ any character)"),
    "set_column": ("set_column", None, "SETCOL", "column to change"),
    "set_value": ("set_value", None, "NEWVALUE", "its new value"),
    "null": ("null", None, "NULL", "the word NULL, ending the COL VAL pairs"),
    "key_column": ("key_column", None, "KEYCOL", "the key column to match, as COLUMN above"),
    "key_value": ("key_value", None, "KEYVALUE", "the value to match, as VALUE above"),
    "lookup": ("pairs", "+", "COL VAL", _PAIR),
    "more": ("pairs", "*", "COL VAL", f"more conditions: {_PAIR}"),
    "row": ("pairs", "+", "COL VAL", "a column of the new row and its value"),
    "file": ("file", None, "FILE", "a file name as in extconfig.conf: queues.conf, ..."),
    "context": ("context", None, "CONTEXT", "the dialplan context holding the switch"),
    "exten": ("exten", None, "EXTEN", "the dialled number"),
    "priority": ("priority", "?", "PRIORITY", "a priority (default 1), or hint"),
    "switch_data": (
        "--data",
        None,
        "DATA",
        "the switch's data, as after Realtime/ in extensions.conf: [CONTEXT]@[FAMILY][/p] "
        "(default: CONTEXT in family extensions)",
    ),
    "callerid": ("--callerid", None, "NUMBER", "the caller's number (for exten/callerid rows)"),
    "expression": (
        "expression",
        None,
        "FUNCTION(ARGS)",
        "the function and its arguments as in the dialplan: 'REALTIME(sippeers,name,alice)'",
    ),
    "function_value": ("value", "?", "VALUE", "write this value, as Set(FUNCTION(ARGS)=VALUE)"),
    "families": (
        "families",
        "*",
        "FAMILY",
        "a family (sippeers, ps_endpoints, ...; iaxpeers for iaxfriends) or NAME.conf / global "
        "for the static-configuration table",
    ),
    "dialect": (
        "--dialect",
        None,
        "NAME",
        "print the DDL for this database: postgresql, mysql, mariadb, sqlite; ldap (a "
        "cn=config schema), res_ldap (its res_ldap.conf sections)",
    ),
    "create": ("--create", "0", "", "create the tables through their mappings"),
    "check": ("--check", "0", "", "compare the live tables with the definitions"),
    "conf_path": (
        "file",
        None,
        "FILE",
        "the .conf file to import (its #includes are read beside it)",
    ),
    "as_name": ("--name", None, "NAME", "the file's name in the table (default: FILE's name)"),
    "follow": (
        "--follow-includes",
        "0",
        "",
        "put included text into the file's own rows instead of keeping #include rows",
    ),
    "dry_run": ("--dry-run", "0", "", "show the rows and what was found; write nothing"),
    "replace": ("--replace", "0", "", "replace rows that already exist"),
    "drop_unknown": (
        "--drop-unknown",
        "0",
        "",
        "leave out options that have no column (they are still listed)",
    ),
    "output": ("--output", None, "PATH", "write to PATH instead of standard output"),
    "kind": (
        "kind",
        None,
        "KIND",
        "sippeers (sip.conf), iaxfriends (iax.conf), voicemail, queues or pjsip",
    ),
    "cache_families": (
        "families",
        "*",
        "FAMILY",
        "families to act on (default: every family realtime_cache.conf names)",
    ),
    "driver_name": ("name", None, "NAME", "the driver's name, as extconfig.conf will use it"),
    "new_driver_dir": ("--dir", None, "DIR", "where to write the package (default ./ara-NAME)"),
}

#: Every command: its words, handler (whose docstring is its help), the check run after
#: parsing, and its positional arguments. A new command is one more line.
_COMMANDS: tuple[tuple[str, Handler, Prepare | None, str], ...] = (
    ("load", _with_realtime(_cmd_load), None, "family column value"),
    ("update", _with_realtime(_cmd_update), None, "family column value set_column set_value"),
    (
        "update2",
        _with_realtime(_cmd_update2),
        _prepare_update2,
        "family lookup null set_column set_value",
    ),
    ("store", _with_realtime(_cmd_store), _prepare_pairs, "family row"),
    ("destroy", _with_realtime(_cmd_destroy), _prepare_destroy, "family key_column key_value more"),
    ("load-multi", _with_realtime(_cmd_load_multi), _prepare_pairs, "family lookup"),
    ("show mappings", _with_realtime(_cmd_mappings), None, ""),
    ("status", _with_realtime(_cmd_status), None, ""),
    ("drivers", _cmd_drivers, None, ""),
    ("config show", _with_realtime(_cmd_config_show), None, "file"),
    ("switch", _with_realtime(_cmd_switch), None, "context exten priority switch_data callerid"),
    ("function", _with_realtime(_cmd_function), None, "expression function_value"),
    ("schema", _cmd_schema, _prepare_schema, "families dialect create check"),
    (
        "config import",
        _with_realtime(_cmd_config_import),
        None,
        "conf_path as_name follow dry_run replace",
    ),
    ("config export", _with_realtime(_cmd_config_export), None, "file output"),
    ("import", _with_realtime(_cmd_import), None, "kind conf_path dry_run replace drop_unknown"),
    ("export", _with_realtime(_cmd_export), None, "kind output"),
    ("cache stats", _cmd_cache_stats, None, ""),
    ("cache install", _with_realtime(_cmd_cache_install, cache=True), None, "cache_families"),
    ("cache remove", _with_realtime(_cmd_cache_remove, cache=True), None, "cache_families"),
    ("new-driver", _cmd_new_driver, None, "driver_name new_driver_dir"),
)

#: Words that only group commands.
_GROUPS = {
    "show": "Show how families map to storage.",
    "config": "Static configuration files.",
    "cache": "The realtime cache (realtime_cache.conf): its counters and change feeds.",
}


def _parser() -> _Parser:
    """The whole command line, built from ``_COMMANDS``."""
    chosen: dict[str, str] = {}
    top = _Parser(
        prog=PROG,
        description="Query and change Asterisk realtime families through ara-realtime.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument(
        "--version",
        action=_Version,
        help="print the versions of ara-realtime, Python and every driver, then exit",
    )
    _add_common(top, chosen, top=True)
    subparsers = {
        "": top.add_subparsers(
            dest="command",
            required=True,
            metavar="COMMAND",
            help="one of these; realtime COMMAND --help explains it",
        )
    }

    def add(words: str, description: str) -> _Parser:
        group, _, name = words.rpartition(" ")
        summary = description.split("\n", 1)[0].rstrip(".")
        c = subparsers[group].add_parser(
            name,
            help=summary[0].lower() + summary[1:],
            description=description,
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _add_common(c, chosen, top=False)
        return c

    for words, run, prepare, positionals in _COMMANDS:
        group = words.rpartition(" ")[0]
        if group and group not in subparsers:
            g = add(group, _GROUPS[group])
            subparsers[group] = g.add_subparsers(
                dest="what",
                required=True,
                metavar="WHAT",
                help=f"one of these; realtime {group} WHAT --help explains it",
            )
        c = add(words, inspect.getdoc(run) or "")
        for key in positionals.split():
            dest, nargs, metavar, help_text = _ARGS[key]
            if not dest.startswith("-"):
                c.add_argument(dest, nargs=nargs, metavar=metavar, help=help_text)
            elif nargs == "0":  # an option without a value
                c.add_argument(dest, action="store_true", help=help_text)
            else:
                c.add_argument(dest, metavar=metavar, help=help_text)
        c.set_defaults(run=run, prepare=prepare, command_parser=c)
    return top


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The checked command line; ``SystemExit`` after a usage error, ``--help``, ``--version``."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # blame the command they were given to, not the top level
        blamed: argparse.ArgumentParser = getattr(args, "command_parser", parser)
        stray_words = any(not word.startswith("-") for word in extra)
        hint = " (options go before the command or after all of its arguments)"
        blamed.error(f"unrecognized arguments: {' '.join(extra)}{hint if stray_words else ''}")
    if args.prepare is not None:
        args.prepare(args)
    return args
