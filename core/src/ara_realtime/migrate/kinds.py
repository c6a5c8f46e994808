"""The files ``realtime import`` knows, one *kind* each: which categories are objects, which
family each goes to, and how its options become columns (:mod:`.objects` says what they
share).

=========== ================= ==================================================================
kind        file              rows
=========== ================= ==================================================================
sippeers    ``sip.conf``      a category with ``type=`` (friend, peer, user): one ``sippeers`` row
                              (and, with ``sipregs`` mapped to a table of its own, a ``sipregs``
                              row of its name unless one is there)
iaxfriends  ``iax.conf``      a category with ``type=``: one ``iaxfriends`` row
voicemail   ``voicemail.conf`` each ``mailbox => password,name,email,pager,options`` line
queues      ``queues.conf``   a category: one ``queues`` row; each ``member =>`` line: one
                              ``queue_members`` row
pjsip       ``pjsip.conf``    a category with ``type=``: one row of that type's ``ps_*`` table
=========== ================= ==================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..conf import Config
from ..errors import ConfigError
from ..realtime import Realtime
from . import objects
from .objects import (
    ObjectPlan,
    Outcome,
    Problem,
    Progress,
    Record,
    Rules,
    add_options,
    check_value,
    definition,
    key_problem,
    last_definitions,
    names,
    row_from,
    rows_of,
    storage_problems,
    where,
)
from .stored import storage_of

__all__ = ["KINDS", "Kind", "Outcome", "export", "import_plan", "kind", "run"]

_ACL_LISTS = frozenset({"permit", "deny", "contactpermit", "contactdeny"})


@dataclass
class Kind:
    """One file's objects: how they become rows, and rows become the file again."""

    name: str
    file: str
    #: the families written, in the order rows are written
    families: tuple[str, ...]
    #: turns the file's config into records and problems
    plan: Callable[[Config, ObjectPlan], None]
    #: turns every family's rows back into a config (given the family names ``rt`` maps)
    export: Callable[[Realtime, list[Problem], Callable[[str], str]], Config]
    #: gives records values that depend on the rows already there
    number: Callable[[Record, dict[str, list[dict[str, str]]]], None] | None = None
    #: families Asterisk may map under other names: the first one mapped is written to
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: objects whose family is not mapped stay in the file (pjsip: each type goes to realtime
    #: only where sorcery.conf says so) instead of stopping the import
    optional: bool = False
    #: adds rows other families need for the planned ones (given the records, targets set)
    companions: Callable[[Realtime, ObjectPlan], None] | None = None

    def target(self, rt: Realtime, family: str) -> str:
        """The family name ``rt`` maps ``family``'s table under."""
        for name in (family, *self.aliases.get(family, ())):
            if rt.is_mapped(name):
                return name
        return family


# -- sip.conf, iax.conf -----------------------------------------------------------------------


def _peers(table: str, rules: Rules, skip: frozenset[str]) -> Callable[[Config, ObjectPlan], None]:
    def plan(cfg: Config, out: ObjectPlan) -> None:
        t = definition(table)
        for cat in cfg:
            if cat.name.lower() in skip:
                out.skipped.append(
                    f"[{cat.name}]: the module's own settings; they stay in the file"
                )
                continue
            if cat.get("type") is None:
                out.skipped.append(f"[{cat.name}]: no type=, so not a peer (the module skips it)")
                continue
            values = {"name": cat.name}
            here = where(cat.file, cat.lineno, cat.name)
            check_value(t, "name", cat.name, out.problems, here)
            record = Record(table, ("name",), values, here)
            values.update(
                row_from(cat, t, rules, out.problems, places=record.places, joined=record.joined)
            )
            out.records.append(record)
        key_problem(out.records, out.problems, "peer")
        out.records[:] = last_definitions(out.records)

    return plan


def _peers_back(
    table: str, rules: Rules
) -> Callable[[Realtime, list[Problem], Callable[[str], str]], Config]:
    def export(rt: Realtime, problems: list[Problem], target: Callable[[str], str]) -> Config:
        cfg = Config()
        t = definition(table)
        family = target(table)
        rows = rows_of(rt, family, ("name",))
        split = storage_of(rt, family).lines_kept if rows else True
        for row in rows:
            add_options(cfg, row["name"], row, t, rules, split=split)
        return cfg

    return export


def _sipregs_rows(rt: Realtime, plan: ObjectPlan) -> None:
    """With ``sipregs`` mapped to a table of its own, a row (its ``name``) for each peer:
    chan_sip only updates registration rows, so a peer without one would never register.
    One already there is kept as it is (it holds the peer's registration)."""
    if not rt.is_mapped("sipregs") or _same_table(rt, "sipregs", "sippeers"):
        return
    peers = [r for r in plan.records if r.family == "sippeers"]
    plan.records.extend(
        Record("sipregs", ("name",), {"name": r.values["name"]}, r.origin, keep_existing=True)
        for r in peers
    )


def _same_table(rt: Realtime, a: str, b: str) -> bool:
    """Do families ``a`` and ``b`` (priority 1) map onto one table of one database?"""

    def where(family: str) -> tuple[str, str, str] | None:
        found = [m for m in rt.mappings if m.name.lower() == family.lower()]
        if not found:
            return None
        m = min(found, key=lambda m: m.priority)
        return (m.driver, m.database, m.table)

    return where(a) == where(b)


SIP_RULES = Rules(
    lists=frozenset({"allow", "disallow"}) | _ACL_LISTS,
    multi=frozenset({"setvar"}),
    # chan_sip writes these itself when a peer registers (and id numbers the rows)
    internal=frozenset(
        {"id", "name", "ipaddr", "regseconds", "fullcontact", "regserver", "useragent", "lastms"}
    ),
    ordered=(("permit", "deny"), ("contactpermit", "contactdeny"), ("disallow", "allow")),
)
IAX_RULES = Rules(
    lists=frozenset({"allow", "disallow"}),
    multi=frozenset({"setvar"}),
    internal=frozenset({"id", "name", "ipaddr", "regseconds"}),
    ordered=(("disallow", "allow"),),
)


# -- voicemail.conf ---------------------------------------------------------------------------

#: Mailbox options app_voicemail knows under another name than their column's.
_VM_RENAME = {"delete": "deletevoicemail", "imapsecret": "imappassword"}
_VM_FIELDS = ("password", "fullname", "email", "pager")
VM_RULES = Rules(internal=frozenset({"uniqueid", "context", "mailbox", *_VM_FIELDS, "stamp"}))


def _voicemail(cfg: Config, out: ObjectPlan) -> None:
    t = definition("voicemail")
    aliases = cfg.get("general", "aliasescontext") or ""
    for cat in cfg:
        lower = cat.name.lower()
        if lower in ("general", "zonemessages") or (aliases and lower == aliases.lower()):
            what = "aliases" if lower == aliases.lower() else "settings of app_voicemail"
            out.skipped.append(f"[{cat.name}]: {what}; they stay in voicemail.conf")
            continue
        if not cat.variables:
            out.skipped.append(f"[{cat.name}]: no mailboxes; it stays in voicemail.conf")
            continue
        for var in cat.variables:
            here = where(var.file, var.lineno, cat.name)
            fields = var.value.split(",", 4)
            values = {"context": cat.name, "mailbox": var.name}
            for column, value in zip(_VM_FIELDS, fields):
                if value:
                    values[column] = check_value(t, column, value, out.problems, here)
            if len(fields) == 5:
                for option in fields[4].split("|"):
                    name, sep, value = option.partition("=")
                    if not sep:
                        out.problems.append(
                            Problem(
                                here,
                                f"option {option!r} has no '=': app_voicemail ignores it",
                                "warning",
                            )
                        )
                        continue
                    column = _VM_RENAME.get(name.lower(), name.lower())
                    if column not in t.columns or column in VM_RULES.internal:
                        out.problems.append(
                            Problem(here, f"option {name!r} has no column in voicemail", "unknown")
                        )
                        continue
                    values[column] = check_value(t, column, value, out.problems, here)
            for column in ("context", "mailbox"):
                check_value(t, column, values[column], out.problems, here)
            ordered = {c: values[c] for c in names(t) if c in values}
            out.records.append(Record("voicemail", ("context", "mailbox"), ordered, here))
    key_problem(out.records, out.problems, "mailbox")
    out.records[:] = last_definitions(out.records)


def _voicemail_back(rt: Realtime, problems: list[Problem], target: Callable[[str], str]) -> Config:
    t = definition("voicemail")
    cfg = Config()
    contexts: dict[str, list[dict[str, str]]] = {}
    for row in rows_of(rt, target("voicemail"), ("context", "mailbox")):
        contexts.setdefault(row["context"], []).append(row)
    for context, rows in contexts.items():
        cat = cfg.add_category(context)
        for row in rows:
            here = f"voicemail {context}/{row.get('mailbox', '')}"
            fields = [row.get(c, "") for c in _VM_FIELDS]
            options = [
                f"{c}={row[c]}"
                for c in names(t)
                if row.get(c) and c not in VM_RULES.internal and c != "alias"
            ]
            bad = [f for f in fields if "," in f] + [o for o in options if "|" in o]
            if bad or row.get("alias"):
                why = "a value holds ',' or '|'" if bad else "alias has no voicemail.conf form"
                problems.append(Problem(here, f"not written: {why}"))
                continue
            text = ",".join([*fields, "|".join(options)]).rstrip(",")
            cat.append(row["mailbox"], text, object=True)
    return cfg


# -- queues.conf ------------------------------------------------------------------------------

QUEUE_RULES = Rules(
    rename={"musicclass": "musiconhold", "music": "musiconhold"},
    internal=frozenset({"name"}),
    normalize=lambda option: option.lower().replace("-", "_"),
)
#: The fields of a ``member =>`` line, in order.
_MEMBER_FIELDS = (
    "interface",
    "penalty",
    "membername",
    "state_interface",
    "ringinuse",
    "wrapuptime",
    "paused",
)
MEMBER_RULES = Rules(internal=frozenset({"queue_name", "interface", "uniqueid", "reason_paused"}))


def _queues(cfg: Config, out: ObjectPlan) -> None:
    queues, members = definition("queues"), definition("queue_members")
    member_records: list[Record] = []
    for cat in cfg:
        if cat.name.lower() == "general":
            out.skipped.append(f"[{cat.name}]: settings of app_queue; they stay in queues.conf")
            continue
        here = where(cat.file, cat.lineno, cat.name)
        values = {"name": check_value(queues, "name", cat.name, out.problems, here)}
        record = Record("queues", ("name",), values, here)
        values.update(
            row_from(cat, queues, QUEUE_RULES, out.problems, skip=("member",), places=record.places)
        )
        out.records.append(record)
        for var in cat.variables:
            if var.name.lower() != "member":
                continue
            line = where(var.file, var.lineno, cat.name)
            if any(c in var.value for c in '"()[]\\'):
                out.problems.append(
                    Problem(
                        line, "a member line with quotes, brackets or backslashes: move it by hand"
                    )
                )
                continue
            row = {"queue_name": cat.name}
            for column, value in zip(_MEMBER_FIELDS, var.value.split(",")):
                value = value.strip()
                if value:
                    row[column] = check_value(members, column, value, out.problems, line)
            if len(var.value.split(",")) > len(_MEMBER_FIELDS):
                out.problems.append(
                    Problem(line, "a member line with more fields than app_queue reads")
                )
            ordered = {c: row[c] for c in names(members) if c in row}
            member_records.append(
                Record("queue_members", ("queue_name", "interface"), ordered, line)
            )
    key_problem(out.records, out.problems, "queue")
    key_problem(member_records, out.problems, "member")
    out.records[:] = last_definitions(out.records) + last_definitions(member_records)


def _number_members(record: Record, existing: dict[str, list[dict[str, str]]]) -> None:
    """Queue members get ``uniqueid`` numbers after the highest one there (in file order: a
    linear strategy rings members in that order)."""
    if record.family != "queue_members":
        return
    rows = existing.setdefault("queue_members", [])
    used = [int(r["uniqueid"]) for r in rows if r.get("uniqueid", "").lstrip("-").isdigit()]
    record.values["uniqueid"] = str(max(used, default=0) + 1)
    rows.append({"uniqueid": record.values["uniqueid"]})


def _queues_back(rt: Realtime, problems: list[Problem], target: Callable[[str], str]) -> Config:
    queues = definition("queues")
    cfg = Config()
    cats = {}
    for row in rows_of(rt, target("queues"), ("name",)):
        cats[row["name"]] = add_options(
            cfg, row["name"], row, queues, QUEUE_RULES, option=lambda c: c.replace("_", "-")
        )
    member_rows = rows_of(rt, target("queue_members"), ("queue_name",), order="uniqueid")
    for row in member_rows:
        queue = row.get("queue_name", "")
        here = f"queue_members {queue}/{row.get('interface', '')}"
        if queue not in cats:
            problems.append(Problem(here, "not written: its queue has no row in queues"))
            continue
        if row.get("reason_paused"):
            problems.append(
                Problem(
                    here, "reason_paused not written: a member line has no such field", "warning"
                )
            )
        fields = [row.get(c, "") for c in _MEMBER_FIELDS]
        if any("," in f for f in fields):
            problems.append(Problem(here, "not written: a value holds ','"))
            continue
        cats[queue].append("member", ",".join(fields).rstrip(","), object=True)
    return cfg


# -- pjsip.conf -------------------------------------------------------------------------------

#: ``type=`` -> its table (sorcery's realtime wizard, as sorcery.conf maps it).
PJSIP_TYPES = {
    "endpoint": "ps_endpoints",
    "aor": "ps_aors",
    "auth": "ps_auths",
    "transport": "ps_transports",
    "identify": "ps_endpoint_id_ips",
    "registration": "ps_registrations",
    "domain_alias": "ps_domain_aliases",
    "contact": "ps_contacts",
    "global": "ps_globals",
    "system": "ps_systems",
    "outbound-publish": "ps_outbound_publishes",
    "inbound-publication": "ps_inbound_publications",
    "asterisk-publication": "ps_asterisk_publications",
    "resource_list": "ps_resource_list",
}
PJSIP_RULES = Rules(
    lists=frozenset(
        {
            "allow",
            "disallow",
            "aors",
            "auth",
            "outbound_auth",
            "contact",
            "match",
            "mailboxes",
            "permit",
            "deny",
            "contact_permit",
            "contact_deny",
            "acl",
            "contact_acl",
            "identify_by",
        }
    ),
    multi=frozenset({"set_var"}),
    internal=frozenset({"id"}),
    ordered=(("disallow", "allow"), ("deny", "permit"), ("contact_deny", "contact_permit")),
)


def _pjsip(cfg: Config, out: ObjectPlan) -> None:
    for cat in cfg:
        kind = cat.get("type")
        if kind is None:
            out.skipped.append(f"[{cat.name}]: no type=, so not an object (sorcery skips it)")
            continue
        table = PJSIP_TYPES.get(kind.lower())
        if table is None:
            out.skipped.append(
                f"[{cat.name}]: type={kind} has no realtime table; it stays in pjsip.conf"
            )
            continue
        t = definition(table)
        here = where(cat.file, cat.lineno, cat.name)
        values = {"id": check_value(t, "id", cat.name, out.problems, here)}
        record = Record(table, ("id",), values, here)
        values.update(
            row_from(
                cat,
                t,
                PJSIP_RULES,
                out.problems,
                skip=("type",),
                places=record.places,
                joined=record.joined,
            )
        )
        out.records.append(record)
    key_problem(out.records, out.problems, "object")
    out.records[:] = last_definitions(out.records)


def _pjsip_back(rt: Realtime, problems: list[Problem], target: Callable[[str], str]) -> Config:
    cfg = Config()
    for kind, table in PJSIP_TYPES.items():
        if not rt.is_mapped(target(table)):
            continue
        t = definition(table)
        rows = rows_of(rt, target(table), ("id",))
        split = storage_of(rt, target(table)).lines_kept if rows else True
        for row in rows:
            add_options(cfg, row["id"], row, t, PJSIP_RULES, first=[("type", kind)], split=split)
    return cfg


# -- the table ----------------------------------------------------------------------------------

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "sippeers",
            "sip.conf",
            ("sippeers",),
            _peers("sippeers", SIP_RULES, frozenset({"general", "authentication"})),
            _peers_back("sippeers", SIP_RULES),
            companions=_sipregs_rows,
        ),
        Kind(
            "iaxfriends",
            "iax.conf",
            ("iaxfriends",),
            _peers("iaxfriends", IAX_RULES, frozenset({"general", "callnumberlimits"})),
            _peers_back("iaxfriends", IAX_RULES),
            aliases={"iaxfriends": ("iaxpeers", "iaxusers")},
        ),
        Kind("voicemail", "voicemail.conf", ("voicemail",), _voicemail, _voicemail_back),
        Kind(
            "queues",
            "queues.conf",
            ("queues", "queue_members"),
            _queues,
            _queues_back,
            number=_number_members,
        ),
        Kind(
            "pjsip",
            "pjsip.conf",
            tuple(PJSIP_TYPES.values()),
            _pjsip,
            _pjsip_back,
            optional=True,
        ),
    )
}


def kind(name: str) -> Kind:
    """The kind called ``name``; ``ConfigError`` naming the known ones."""
    found = KINDS.get(name.lower())
    if found is None:
        raise ConfigError(f"unknown kind {name!r}; use one of {', '.join(KINDS)}")
    return found


# -- import and export ------------------------------------------------------------------------


def import_plan(rt: Realtime | None, name: str, path: str | Path) -> ObjectPlan:
    """The rows ``path`` gives as kind ``name``, and every problem found on the way.

    With ``rt``, each record's family is the name ``rt`` maps its table under, a family
    ``rt`` does not map is a problem, and so is a value its storage would give Asterisk back
    differently (:mod:`.stored`; this opens the mapping's connection). Nothing is written.
    """
    k = kind(name)
    cfg = Config.from_file(path)
    plan = ObjectPlan(k.name)
    k.plan(cfg, plan)
    if rt is not None:
        missing: dict[str, list[Record]] = {}
        for r in plan.records:
            r.family = k.target(rt, r.family)
            if not rt.is_mapped(r.family):
                missing.setdefault(r.family, []).append(r)
        for family, records in missing.items():
            if k.optional:  # sorcery.conf decides per type: the rest stays in the file
                plan.records = [r for r in plan.records if r.family != family]
                names = ", ".join(f"[{r.key_values[0]}]" for r in records)
                plan.skipped.append(
                    f"{names}: family {family!r} is not mapped in extconfig.conf; "
                    f"they stay in {k.file}"
                )
            else:
                plan.problems.append(
                    Problem(records[0].origin, f"family {family!r} is not mapped in extconfig.conf")
                )
        if k.companions is not None:
            k.companions(rt, plan)
        storage_problems(rt, plan.records, plan.problems)
    return plan


def run(
    rt: Realtime,
    plan: ObjectPlan,
    *,
    replace: bool = False,
    drop_unknown: bool = False,
    progress: Progress | None = None,
    outcome: Outcome | None = None,
) -> Outcome:
    """Write ``plan`` (from :func:`import_plan` with the same ``rt``) all or nothing; what
    was done (``outcome``, when given, is filled in, also on failure: see
    :func:`.objects.run_import`)."""
    return objects.run_import(
        rt,
        plan,
        replace=replace,
        drop_unknown=drop_unknown,
        progress=progress,
        number=kind(plan.kind).number,
        outcome=outcome,
    )


def export(rt: Realtime, name: str) -> tuple[str, list[Problem]]:
    """Kind ``name``'s rows as the text of its file, and what could not be written."""
    k = kind(name)
    problems: list[Problem] = []
    cfg = k.export(rt, problems, lambda family: k.target(rt, family))
    return cfg.to_text(), problems
