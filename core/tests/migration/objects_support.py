"""What the family import tests compare: a file's objects and their options, read with the
modules' own rules (written here independently of ara_realtime.migrate)."""

from __future__ import annotations

from ara_realtime import Config

#: Options read as comma lists (several lines add up), per kind.
LISTS = {
    "sippeers": {"allow", "disallow", "permit", "deny", "contactpermit", "contactdeny"},
    "iaxfriends": {"allow", "disallow"},
    "pjsip": {
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
    },
    "queues": set(),
}
#: Options that are several lines (kept line by line).
LINES = {"sippeers": {"setvar"}, "iaxfriends": {"setvar"}, "pjsip": {"set_var"}, "queues": set()}
SKIP = {
    "sippeers": {"general", "authentication"},
    "iaxfriends": {"general", "callnumberlimits"},
    "queues": {"general"},
    "pjsip": set(),
}


def _options(kind: str, pairs: list[tuple[str, str]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, value in pairs:
        option = name.lower()
        if kind == "queues":
            option = option.replace("-", "_")
            option = {"musicclass": "musiconhold", "music": "musiconhold"}.get(option, option)
        if option in LISTS[kind]:
            items = out.setdefault(option, [])
            assert isinstance(items, list)
            items.extend(v.strip() for v in value.split(","))
        elif option in LINES[kind]:
            lines = out.setdefault(option, [])
            assert isinstance(lines, list)
            lines.append(value)
        else:
            out[option] = value
    return out


def objects(kind: str, cfg: Config) -> dict[tuple[str, ...], dict[str, object]]:
    """Object key -> its options as the module applies them: the last value of an option,
    the items of a list option, the lines of a several-line option."""
    out: dict[tuple[str, ...], dict[str, object]] = {}
    for cat in cfg:
        if kind == "voicemail":
            if cat.name.lower() in ("general", "zonemessages"):
                continue
            for var in cat:
                password, fullname, email, pager, options = (var.value.split(",", 4) + [""] * 5)[:5]
                fields = {
                    "password": password,
                    "fullname": fullname,
                    "email": email,
                    "pager": pager,
                }
                for option in filter(None, options.split("|")):
                    name, _, value = option.partition("=")
                    name = {"delete": "deletevoicemail"}.get(name.lower(), name.lower())
                    fields[name] = value
                out[("voicemail", cat.name, var.name)] = {k: v for k, v in fields.items() if v}
            continue
        if cat.name.lower() in SKIP[kind]:
            continue
        pairs = cat.items()
        if kind == "pjsip":
            out[(cat.get("type") or "", cat.name)] = _options(
                kind, [(n, v) for n, v in pairs if n.lower() != "type"]
            )
        elif kind == "queues":
            members = [v for n, v in pairs if n.lower() == "member"]
            out[("queue", cat.name)] = _options(
                kind, [(n, v) for n, v in pairs if n.lower() != "member"]
            )
            for member in members:
                parts = [f.strip() for f in member.split(",")]
                out[("member", cat.name, parts[0])] = {"fields": parts[1:]}
        elif cat.get("type") is not None:
            out[(cat.name,)] = _options(kind, pairs)
    return out
