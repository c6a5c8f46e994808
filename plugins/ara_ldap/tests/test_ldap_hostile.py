"""Hostile values: filter and DN syntax in values never matches, names or damages another entry.

The table is named by its ``name`` column (``cn=<name>``), so values also land in DNs. Every
RFC 4515 special (``* ( ) \\``), filter injections (``*)(objectClass=*``), RFC 4514 DN specials
(``, + " < > ; =``, a leading ``#`` or space, a trailing space) and any Unicode are stored,
looked up by ``=``, ``LIKE`` and ``!=``, updated and destroyed; each call returns exactly what
the contract's model says. The only refusal allowed is the directory's own: two names its
``cn`` matching rule holds equal (``Alice``/``alice``) cannot both name an entry; the test then
checks that the clash is real and that nothing was written.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import ldap3
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ara_conformance import Model
from ara_ldap.filters import escape_value
from ara_realtime import QueryError, Realtime
from ara_testservers.slapd import SlapdServer

INJECTIONS = (
    "*",
    "*)(objectClass=*",
    "*)(|(cn=*",
    ")(cn=*))(|(cn=*",
    "\\2a",
    "\\",
    "(",
    ")",
    "a*b",
    "cn=x,dc=ara,dc=test",
    "a,b",
    "a+cn=b",
    '"quoted"',
    "<tag>",
    "semi;colon",
    "x=y",
    "#hash",
    " lead",
    "trail ",
    "  ",
    "\\,",
    "%",
    "_",
    "ünïcödé 電話 🎉",
)
SPECIALS = "*()\\,+\"<>;=# %_'aZ\t\n"

values = st.one_of(
    st.sampled_from(INJECTIONS),
    st.text(alphabet=SPECIALS, min_size=1, max_size=12),
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=12
    ),
).filter(lambda v: v.strip(" ") != "" or v == "  ")

_seq = itertools.count(1)


def _like(value: str) -> str:
    return "".join("\\" + ch if ch in "%_\\" else ch for ch in value)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(names=["Alice", "alice", " Alice", "Alice  ", "*", "\\2a"], probes=["ALICE", "\\*"])
@example(names=list(INJECTIONS), probes=["*", "cn=x", "a"])
@given(
    names=st.lists(values, min_size=1, max_size=8, unique=True), probes=st.lists(values, max_size=4)
)
def test_hostile_values_in_values_filters_and_dns(
    slapd: SlapdServer,
    admin: ldap3.Connection,
    make_rt: Callable[..., Realtime],
    names: list[str],
    probes: list[str],
) -> None:
    base = f"ou=hostile-{next(_seq)},{slapd.suffix}"
    admin.add(base, ["organizationalUnit"], {"ou": base.split(",", 1)[0][3:]})  # type: ignore[no-untyped-call]
    table = {
        "hostile.name": "cn",
        "hostile.secret": "araText1",
        "hostile.exact": "araExact1",
        "hostile.objectClasses": "araRow",
        "hostile.rdnAttribute": "cn",
        "hostile.additionalFilter": "(objectClass=araRow)",
    }
    rt = make_rt({"h": f'ldap,"{base}",hostile'}, base, **table)
    model = Model(["name", "secret", "exact"])
    try:
        for name in names:
            row = {"name": name, "secret": name, "exact": name}
            try:
                assert rt.store("h", row) == 1
            except QueryError as exc:
                assert "already has an entry named by" in str(exc), exc
                # a real clash under the directory's rule for cn, with a row already stored
                admin.search(base, f"(cn={escape_value(name)})", ldap3.LEVEL, attributes=["cn"])
                clash = {e.cn.value for e in admin.entries}
                assert clash and clash <= {r["name"] for r in model.rows}, (name, clash)
                continue
            model.store(row)
            admin.search(base, f"(araExact1={escape_value(name)})", ldap3.LEVEL, attributes=["cn"])
            assert [e.cn.value for e in admin.entries] == [name], "the entry is not named by it"
        for row in model.rows:
            name = row["name"]
            assert rt.load("h", name=name) == row
            assert rt.load("h", secret=name) == row
            assert rt.load("h", exact=name) == row
            assert rt.load_multi("h", ("name LIKE", _like(name))) == [row]
            others = [r for r in model.rows if r is not row]
            assert sorted(r["name"] for r in rt.load_multi("h", ("exact !=", name))) == sorted(
                r["name"] for r in others
            )
        for probe in probes:
            for column in ("name", "secret", "exact"):
                got = rt.load_multi("h", (column, probe))
                assert got == model.load_multi([(column, "=", probe)]), (column, probe, got)
        if model.rows:
            first = model.rows[0]["name"]
            assert rt.update("h", "name", first, {"secret": "changed", "exact": ""}) == 1
            model.update([("name", "=", first)], {"secret": "changed", "exact": ""})
            last = model.rows[-1]["name"]
            assert rt.destroy("h", "name", last) == 1
            model.destroy([("name", "=", last)])
            assert rt.destroy("h", "name", last) == 0
        everything = rt.load_multi("h", ("name LIKE", "%"))
        assert model.same_rows(everything, model.rows), (everything, model.rows)
    finally:
        rt.close()
        admin.search(base, "(objectClass=*)", ldap3.LEVEL, attributes=[])
        for dn in [e.entry_dn for e in admin.entries]:
            admin.delete(dn)  # type: ignore[no-untyped-call]
        admin.delete(base)  # type: ignore[no-untyped-call]
