"""``realtime schema --create/--check`` through mappings on sqlite3, PostgreSQL and MariaDB:
every family's table is created, compares equal to its definition, and passes what
Asterisk's modules require of it."""

from __future__ import annotations

import pytest

from ara_realtime.schema import FAMILIES
from ara_realtime.schema.live import check, create
from ara_realtime.schema.requirements import REQUIREMENTS

from .conftest import DB, Backend

#: Every family mapped under its own name, the static table as extensions.conf's, and the
#: families Asterisk requires columns of under the names it asks for.
_EXTCONFIG = "".join(
    f"{f} => DRIVER,{DB}\n" for f in FAMILIES if f not in ("ast_config", "iaxfriends")
) + (
    f"iaxpeers => DRIVER,{DB},iaxfriends\n"
    f"iaxusers => DRIVER,{DB},iaxfriends\n"
    f"extensions.conf => DRIVER,{DB},ast_config\n"
)
_ALL = [f for f in FAMILIES if f != "ast_config"] + ["extensions.conf"]

#: A column changed behind the definition's back, per driver, and what check says.
_ALTER = {
    "sqlite3": None,  # SQLite cannot change a column's type
    "pgsql": (
        "ALTER TABLE sippeers ALTER COLUMN callerid TYPE VARCHAR(20)",
        "sippeers.callerid (sippeers): type is VARCHAR(20), the definition says VARCHAR(40)",
    ),
    "mysql": (
        "ALTER TABLE sippeers MODIFY callerid VARCHAR(20)",
        "sippeers.callerid (sippeers): type is VARCHAR(20), the definition says VARCHAR(40)",
    ),
}


@pytest.mark.parametrize("driver", ["sqlite3", "pgsql", "mysql"])
def test_every_family_created_checked_and_required(backend: Backend) -> None:
    rt = backend.realtime(_EXTCONFIG)
    done = create(rt, _ALL)
    assert {o.action for o in done} == {"created"}
    assert len(done) == len(FAMILIES)
    assert check(rt, _ALL) == []
    for family, columns in REQUIREMENTS.items():
        assert rt.require(family, dict(columns)), family
    # created tables take rows through the API (enum columns included)
    assert rt.store("sippeers", {"name": "alice", "type": "friend", "trustrpid": "yes"}) == 1
    assert rt.load("sippeers", name="alice") == {
        "id": "1",
        "name": "alice",
        "type": "friend",
        "trustrpid": "yes",
    }
    assert {o.action for o in create(rt, ["sippeers", "extensions.conf"])} == {"exists"}


@pytest.mark.parametrize("driver", ["pgsql", "mysql"])
def test_check_sees_a_changed_type(backend: Backend) -> None:
    rt = backend.realtime(f"sippeers => DRIVER,{DB}\n")
    create(rt, ["sippeers"])
    sql, expected = _ALTER[backend.driver]  # type: ignore[misc]
    backend.sql(sql)
    assert [str(d).split(": ", 1)[1] for d in check(rt, ["sippeers"])] == [expected]


@pytest.mark.parametrize("driver", ["ldap"])
def test_ldap_tables_from_the_same_definitions(backend: Backend) -> None:
    """On ldap the tables are the schema ``--dialect ldap`` prints (loaded into the test
    directory) and the sections ``--dialect res_ldap`` prints: they take rows of every
    family, and pass what Asterisk's modules require."""
    rt = backend.realtime(_EXTCONFIG)
    for family, columns in REQUIREMENTS.items():
        assert rt.require(family, dict(columns)), family
    assert rt.store("ps_endpoints", {"id": "1101", "100rel": "yes", "context": "in"}) == 1
    assert rt.load("ps_endpoints", id="1101") == {"id": "1101", "context": "in", "100rel": "yes"}
    assert rt.store("ps_outbound_publishes", {"id": "p", "@body": "text/plain"}) == 1
    assert rt.load("ps_outbound_publishes", ("@body", "text/plain")) == {
        "id": "p",
        "@body": "text/plain",
    }
    assert rt.store("queue_members", {"queue_name": "q", "interface": "PJSIP/1", "uniqueid": "7"})
    assert rt.load_multi("queue_members", ("uniqueid >=", "7")) == [
        {"queue_name": "q", "interface": "PJSIP/1", "uniqueid": "7"}
    ]


_AST_BOOL = ("0", "1", "off", "on", "false", "true", "no", "yes")


@pytest.mark.parametrize("driver", ["pgsql", "mysql"])
def test_check_names_enum_types(backend: Backend) -> None:
    """An enum column made text, an enum column of another enum type, and (PostgreSQL) an
    enum type with other labels: check names the types as the database does."""
    rt = backend.realtime(f"ps_endpoints => DRIVER,{DB}\nvoicemail => DRIVER,{DB}\n")
    create(rt, ["ps_endpoints", "voicemail"])
    if backend.driver == "pgsql":
        backend.sql(
            "ALTER TABLE ps_endpoints ALTER COLUMN direct_media TYPE VARCHAR(5);"
            "ALTER TABLE voicemail ALTER COLUMN attach TYPE ast_bool_values "
            "USING attach::text::ast_bool_values"
        )
        backend.sql("ALTER TYPE yes_no_values ADD VALUE 'maybe'")
        ast_bool = f"the enum type ast_bool_values ({', '.join(map(repr, _AST_BOOL))})"
        yes_no = "the enum type yes_no_values ('yes', 'no')"
    else:
        labels = ",".join(f"'{e}'" for e in _AST_BOOL)
        backend.sql(
            "ALTER TABLE ps_endpoints MODIFY direct_media VARCHAR(5);"
            f"ALTER TABLE voicemail MODIFY attach ENUM({labels})"
        )
        ast_bool = f"ENUM({labels})"
        yes_no = "ENUM('yes','no')"
    found = {f"{d.table}.{d.item}": d.problem for d in check(rt, ["ps_endpoints", "voicemail"])}
    assert found.pop("ps_endpoints.direct_media") == (
        f"type is VARCHAR(5), the definition says {ast_bool}"
    )
    assert found.pop("voicemail.attach") == f"type is {ast_bool}, the definition says {yes_no}"
    if backend.driver == "pgsql":  # every other yes_no_values column: the type changed
        assert found.pop("voicemail.saycid") == (
            f"type is {yes_no[:-1]}, 'maybe'), the definition says {yes_no}"
        )
        assert set(found.values()) == {
            f"type is {yes_no[:-1]}, 'maybe'), the definition says {yes_no}"
        }
    else:
        assert found == {}
