"""The one ``MetaData`` every table definition joins, and Asterisk's enumerated types.

Enum types keep the names Asterisk's alembic scripts give them, so PostgreSQL gets the same
``CREATE TYPE`` names (``yes_no_values``, ``ast_bool_values``, ...) and MySQL the same inline
``ENUM(...)`` lists; SQLite stores them as ``VARCHAR`` of the longest label. Two types with
the same labels stay two types where Asterisk has two (``yes_no_values``, ``yesno_values``).
"""

from __future__ import annotations

from sqlalchemy import Enum, MetaData

__all__ = ["METADATA"]

#: Every table of :mod:`ara_realtime.schema`.
METADATA = MetaData()


def _enum(name: str, *labels: str) -> Enum:
    # native_enum: PostgreSQL CREATE TYPE, MySQL ENUM(...); no CHECK constraint (alembic's
    # tables have none), so SQLite gets a plain VARCHAR
    return Enum(*labels, name=name, create_constraint=False)


YES_NO = _enum("yes_no_values", "yes", "no")
YESNO = _enum("yesno_values", "yes", "no")
AST_BOOL = _enum("ast_bool_values", "0", "1", "off", "on", "false", "true", "no", "yes")
TYPE = _enum("type_values", "friend", "user", "peer")

SIP_TRANSPORT = _enum(
    "sip_transport_values", "udp", "tcp", "tls", "ws", "wss", "udp,tcp", "tcp,udp"
)
SIP_DTMFMODE = _enum("sip_dtmfmode_values", "rfc2833", "info", "shortinfo", "inband", "auto")
SIP_DIRECTMEDIA = _enum("sip_directmedia_values_v2", "yes", "no", "nonat", "update", "outgoing")
SIP_PROGRESSINBAND = _enum("sip_progressinband_values", "yes", "no", "never")
SIP_SESSION_TIMERS = _enum("sip_session_timers_values", "accept", "refuse", "originate")
SIP_SESSION_REFRESHER = _enum("sip_session_refresher_values", "uac", "uas")
SIP_CALLINGPRES = _enum(
    "sip_callingpres_values",
    "allowed_not_screened",
    "allowed_passed_screen",
    "allowed_failed_screen",
    "allowed",
    "prohib_not_screened",
    "prohib_passed_screen",
    "prohib_failed_screen",
    "prohib",
)

IAX_REQUIRECALLTOKEN = _enum("iax_requirecalltoken_values", "yes", "no", "auto")
IAX_ENCRYPTION = _enum("iax_encryption_values", "yes", "no", "aes128")
IAX_TRANSFER = _enum("iax_transfer_values", "yes", "no", "mediaonly")

MOH_MODE = _enum(
    "moh_mode_values", "custom", "files", "mp3nb", "quietmp3nb", "quietmp3", "playlist"
)
QUEUE_AUTOPAUSE = _enum("queue_autopause_values", "yes", "no", "all")
QUEUE_STRATEGY = _enum(
    "queue_strategy_values",
    "ringall",
    "leastrecent",
    "fewestcalls",
    "random",
    "rrmemory",
    "linear",
    "wrandom",
    "rrordered",
)

PJSIP_CONNECTED_LINE_METHOD = _enum(
    "pjsip_connected_line_method_values", "invite", "reinvite", "update"
)
PJSIP_DIRECT_MEDIA_GLARE_MITIGATION = _enum(
    "pjsip_direct_media_glare_mitigation_values", "none", "outgoing", "incoming"
)
PJSIP_DTMF_MODE = _enum(
    "pjsip_dtmf_mode_values_v3", "rfc4733", "inband", "info", "auto", "auto_info"
)
PJSIP_TIMER = _enum("pjsip_timer_values", "forced", "no", "required", "yes")
PJSIP_CID_PRIVACY = _enum(
    "pjsip_cid_privacy_values",
    "allowed_not_screened",
    "allowed_passed_screened",
    "allowed_failed_screened",
    "allowed",
    "prohib_not_screened",
    "prohib_passed_screened",
    "prohib_failed_screened",
    "prohib",
    "unavailable",
)
PJSIP_100REL = _enum("pjsip_100rel_values_v2", "no", "required", "peer_supported", "yes")
PJSIP_MEDIA_ENCRYPTION = _enum("pjsip_media_encryption_values", "no", "sdes", "dtls")
PJSIP_T38UDPTL_EC = _enum("pjsip_t38udptl_ec_values", "none", "fec", "redundancy")
PJSIP_DTLS_SETUP = _enum("pjsip_dtls_setup_values", "active", "passive", "actpass")
PJSIP_REDIRECT_METHOD = _enum("pjsip_redirect_method_values", "user", "uri_core", "uri_pjsip")
SHA_HASH = _enum("sha_hash_values", "SHA-1", "SHA-256")
PJSIP_INCOMING_CALL_OFFER_PREF = _enum(
    "pjsip_incoming_call_offer_pref_values", "local", "local_first", "remote", "remote_first"
)
PJSIP_OUTGOING_CALL_OFFER_PREF = _enum(
    "pjsip_outgoing_call_offer_pref_values",
    "local",
    "local_merge",
    "local_first",
    "remote",
    "remote_merge",
    "remote_first",
)
SECURITY_NEGOTIATION = _enum("security_negotiation_values", "no", "mediasec")
PJSIP_AUTH_TYPE = _enum("pjsip_auth_type_values_v2", "md5", "userpass", "google_oauth")
PJSIP_TRANSPORT_METHOD = _enum(
    "pjsip_transport_method_values_v2",
    "default",
    "unspecified",
    "tlsv1",
    "tlsv1_1",
    "tlsv1_2",
    "tlsv1_3",
    "sslv2",
    "sslv23",
    "sslv3",
)
PJSIP_TRANSPORT_PROTOCOL = _enum(
    "pjsip_transport_protocol_values_v2", "udp", "tcp", "tls", "ws", "wss", "flow"
)
PJSIP_TASKPROCESSOR_OVERLOAD_TRIGGER = _enum(
    "pjsip_taskprocessor_overload_trigger_values", "none", "global", "pjsip_only"
)
