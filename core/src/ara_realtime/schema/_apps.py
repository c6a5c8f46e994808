"""Applications' tables: voicemail, dialplan, conferences, queues, music on hold, and the
static-configuration table.

Column for column as Asterisk's alembic scripts leave them (``contrib/ast-db-manage/config``,
and the ``voicemail`` and ``queue_log`` trees for ``voicemessages`` and ``queue_log``). Where
the scripts differ per database that is kept: ``queue_members.uniqueid`` is
``AUTO_INCREMENT`` on MySQL only, ``voicemessages.recording`` is ``LONGBLOB`` there.

The static-configuration table has no alembic script; its shape is the one Asterisk's
documentation gives (``doc/res_config_sqlite.txt``), with ``var_val`` as ``TEXT`` without a
default (MySQL before 8.0.13 refuses defaults on ``TEXT``).
"""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.dialects.mysql import LONGBLOB
from sqlalchemy.sql.ddl import ExecutableDDLElement

from ._types import AST_BOOL, METADATA, MOH_MODE, QUEUE_AUTOPAUSE, QUEUE_STRATEGY, YES_NO, YESNO

__all__ = [
    "AFTER_CREATE",
    "AST_CONFIG",
    "EXTENSIONS",
    "MEETME",
    "MUSICONHOLD",
    "MUSICONHOLD_ENTRY",
    "QUEUES",
    "QUEUE_LOG",
    "QUEUE_MEMBERS",
    "QUEUE_RULES",
    "VOICEMAIL",
    "VOICEMESSAGES",
]

#: A BIGINT key that still numbers itself on SQLite (only INTEGER PRIMARY KEY does there).
_BIGSERIAL = BigInteger().with_variant(Integer, "sqlite")

VOICEMAIL = Table(
    "voicemail",
    METADATA,
    Column("uniqueid", Integer, primary_key=True),
    Column("context", String(80), nullable=False),
    Column("mailbox", String(80), nullable=False),
    Column("password", String(80), nullable=False),
    Column("fullname", String(80)),
    Column("alias", String(80)),
    Column("email", String(80)),
    Column("pager", String(80)),
    Column("attach", YES_NO),
    Column("attachfmt", String(10)),
    Column("serveremail", String(80)),
    Column("language", String(20)),
    Column("tz", String(30)),
    Column("deletevoicemail", YES_NO),
    Column("saycid", YES_NO),
    Column("sendvoicemail", YES_NO),
    Column("review", YES_NO),
    Column("tempgreetwarn", YES_NO),
    Column("operator", YES_NO),
    Column("envelope", YES_NO),
    Column("sayduration", Integer),
    Column("forcename", YES_NO),
    Column("forcegreetings", YES_NO),
    Column("callback", String(80)),
    Column("dialout", String(80)),
    Column("exitcontext", String(80)),
    Column("maxmsg", Integer),
    Column("volgain", Numeric(5, 2)),
    Column("imapuser", String(80)),
    Column("imappassword", String(80)),
    Column("imapserver", String(80)),
    Column("imapport", String(8)),
    Column("imapflags", String(80)),
    Column("stamp", DateTime),
    Index("voicemail_mailbox", "mailbox"),
    Index("voicemail_context", "context"),
    Index("voicemail_mailbox_context", "mailbox", "context"),
    Index("voicemail_imapuser", "imapuser"),
)

#: ODBC message storage (``odbcstorage`` in voicemail.conf; ``odbctable``, default
#: ``voicemessages``); alembic calls the table ``voicemail_messages``.
VOICEMESSAGES = Table(
    "voicemessages",
    METADATA,
    Column("dir", String(255), nullable=False),
    Column("msgnum", Integer, nullable=False),
    Column("context", String(80)),
    Column("callerid", String(80)),
    Column("origtime", Integer),
    Column("duration", Integer),
    Column("recording", LargeBinary().with_variant(LONGBLOB(), "mysql", "mariadb")),
    Column("flag", String(30)),
    Column("category", String(30)),
    Column("mailboxuser", String(30)),
    Column("mailboxcontext", String(30)),
    Column("msg_id", String(40)),
    PrimaryKeyConstraint("dir", "msgnum"),
)

EXTENSIONS = Table(
    "extensions",
    METADATA,
    Column("id", _BIGSERIAL, primary_key=True, unique=True),
    Column("context", String(40), nullable=False),
    Column("exten", String(40), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("app", String(40), nullable=False),
    Column("appdata", String(256), nullable=False),
    UniqueConstraint("context", "exten", "priority"),
)

MEETME = Table(
    "meetme",
    METADATA,
    Column("bookid", Integer, primary_key=True),
    Column("confno", String(80), nullable=False),
    Column("starttime", DateTime),
    Column("endtime", DateTime),
    Column("pin", String(20)),
    Column("adminpin", String(20)),
    Column("opts", String(20)),
    Column("adminopts", String(20)),
    Column("recordingfilename", String(80)),
    Column("recordingformat", String(10)),
    Column("maxusers", Integer),
    Column("members", Integer, nullable=False),
    Index("meetme_confno_start_end", "confno", "starttime", "endtime"),
)

QUEUES = Table(
    "queues",
    METADATA,
    Column("name", String(128), primary_key=True),
    Column("musiconhold", String(128)),
    Column("announce", String(128)),
    Column("context", String(128)),
    Column("timeout", Integer),
    Column("ringinuse", YESNO),
    Column("setinterfacevar", YESNO),
    Column("setqueuevar", YESNO),
    Column("setqueueentryvar", YESNO),
    Column("monitor_format", String(8)),
    Column("membermacro", String(512)),
    Column("membergosub", String(512)),
    Column("queue_youarenext", String(128)),
    Column("queue_thereare", String(128)),
    Column("queue_callswaiting", String(128)),
    Column("queue_quantity1", String(128)),
    Column("queue_quantity2", String(128)),
    Column("queue_holdtime", String(128)),
    Column("queue_minutes", String(128)),
    Column("queue_minute", String(128)),
    Column("queue_seconds", String(128)),
    Column("queue_thankyou", String(128)),
    Column("queue_callerannounce", String(128)),
    Column("queue_reporthold", String(128)),
    Column("announce_frequency", Integer),
    Column("announce_to_first_user", YESNO),
    Column("min_announce_frequency", Integer),
    Column("announce_round_seconds", Integer),
    Column("announce_holdtime", String(128)),
    Column("announce_position", String(128)),
    Column("announce_position_limit", Integer),
    Column("periodic_announce", String(50)),
    Column("periodic_announce_frequency", Integer),
    Column("relative_periodic_announce", YESNO),
    Column("random_periodic_announce", YESNO),
    Column("retry", Integer),
    Column("wrapuptime", Integer),
    Column("penaltymemberslimit", Integer),
    Column("autofill", YESNO),
    Column("monitor_type", String(128)),
    Column("autopause", QUEUE_AUTOPAUSE),
    Column("autopausedelay", Integer),
    Column("autopausebusy", YESNO),
    Column("autopauseunavail", YESNO),
    Column("maxlen", Integer),
    Column("servicelevel", Integer),
    Column("strategy", QUEUE_STRATEGY),
    Column("joinempty", String(128)),
    Column("leavewhenempty", String(128)),
    Column("reportholdtime", YESNO),
    Column("memberdelay", Integer),
    Column("weight", Integer),
    Column("timeoutrestart", YESNO),
    Column("defaultrule", String(128)),
    Column("timeoutpriority", String(128)),
    Column("log_restricted_caller_id", AST_BOOL),
)

QUEUE_MEMBERS = Table(
    "queue_members",
    METADATA,
    Column("queue_name", String(80), nullable=False),
    Column("interface", String(80), nullable=False),
    Column("membername", String(80)),
    Column("state_interface", String(80)),
    Column("penalty", Integer),
    Column("paused", Integer),
    Column("uniqueid", Integer, nullable=False, unique=True),
    Column("wrapuptime", Integer),
    Column("ringinuse", AST_BOOL),
    Column("reason_paused", String(80)),
    PrimaryKeyConstraint("queue_name", "interface"),
)


#: DDL run after ``CREATE TABLE`` of a family (``%(table)s`` is the table's quoted name):
#: alembic makes ``queue_members.uniqueid`` AUTO_INCREMENT where a column that is not the
#: primary key can number itself (MySQL); elsewhere whoever inserts gives it.
_AUTO_INCREMENT = DDL(  # type: ignore[no-untyped-call]
    "ALTER TABLE %(table)s MODIFY uniqueid INTEGER NOT NULL AUTO_INCREMENT"
)
AFTER_CREATE: dict[str, list[ExecutableDDLElement]] = {
    "queue_members": [
        _AUTO_INCREMENT.execute_if(dialect=("mysql", "mariadb"))  # type: ignore[arg-type]
    ]
}
for _ddl in AFTER_CREATE["queue_members"]:
    event.listen(QUEUE_MEMBERS, "after_create", _ddl)

QUEUE_RULES = Table(
    "queue_rules",
    METADATA,
    Column("rule_name", String(80), nullable=False),
    Column("time", String(32), nullable=False),
    Column("min_penalty", String(32), nullable=False),
    Column("max_penalty", String(32), nullable=False),
)

QUEUE_LOG = Table(
    "queue_log",
    METADATA,
    Column("id", _BIGSERIAL, primary_key=True, unique=True),
    Column("time", DateTime),
    Column("callid", String(80)),
    Column("queuename", String(256)),
    Column("agent", String(80)),
    Column("event", String(32)),
    Column("data1", String(100)),
    Column("data2", String(100)),
    Column("data3", String(100)),
    Column("data4", String(100)),
    Column("data5", String(100)),
)

MUSICONHOLD = Table(
    "musiconhold",
    METADATA,
    Column("name", String(80), primary_key=True),
    Column("mode", MOH_MODE),
    Column("directory", String(255)),
    Column("application", String(255)),
    Column("digit", String(1)),
    Column("sort", String(10)),
    Column("format", String(10)),
    Column("stamp", DateTime),
    Column("loop_last", YESNO),
)

MUSICONHOLD_ENTRY = Table(
    "musiconhold_entry",
    METADATA,
    Column("name", String(80), ForeignKey("musiconhold.name"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("entry", String(1024), nullable=False),
    PrimaryKeyConstraint("name", "position"),
)

#: The static-configuration table (any name: ``extensions.conf => pgsql,db,ast_config``).
AST_CONFIG = Table(
    "ast_config",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("cat_metric", Integer, nullable=False, server_default="0"),
    Column("var_metric", Integer, nullable=False, server_default="0"),
    Column("commented", SmallInteger, nullable=False, server_default="0"),
    Column("filename", String(128), nullable=False, server_default=""),
    Column("category", String(128), nullable=False, server_default="default"),
    Column("var_name", String(128), nullable=False, server_default=""),
    Column("var_val", Text, nullable=False),
    Index("ast_config_cat_metric", "cat_metric"),
    Index("ast_config_var_metric", "var_metric"),
    Index("ast_config_filename_commented", "filename", "commented"),
)
