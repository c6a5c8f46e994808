"""What Asterisk's modules ``require`` of each family (``ast_realtime_require_field``).

Every call in Asterisk's source, with the sizes it passes; where a size depends on the data
(meetme's conference number, voicemail's new password, queue_log's message) the largest one
the module checks in practice is given. A table made from :mod:`ara_realtime.schema` passes
all of them (``realtime schema --check`` asks, and the tests check it on every SQL driver).
"""

from __future__ import annotations

from ..datatypes import RQ, Requirement

__all__ = ["REQUIREMENTS"]

_C, _I1, _U1, _U2, _U3, _I4, _DT = (
    RQ.CHAR,
    RQ.INTEGER1,
    RQ.UINTEGER1,
    RQ.UINTEGER2,
    RQ.UINTEGER3,
    RQ.INTEGER4,
    RQ.DATETIME,
)

#: Family -> column -> requirement, as the module asks it.
REQUIREMENTS: dict[str, dict[str, Requirement]] = {
    # chan_sip at load with rtupdate=yes, on sipregs when that is mapped, else sippeers
    "sippeers": {
        "name": Requirement(_C, 10),
        "ipaddr": Requirement(_C, 45),
        "port": Requirement(_U2, 5),
        "regseconds": Requirement(_I4, 11),
        "defaultuser": Requirement(_C, 10),
        "fullcontact": Requirement(_C, 35),
        "regserver": Requirement(_C, 20),
        "useragent": Requirement(_C, 20),
        "lastms": Requirement(_I4, 11),
    },
    # chan_iax2 at load
    "iaxpeers": {
        "name": Requirement(_C, 10),
        "ipaddr": Requirement(_C, 15),
        "port": Requirement(_U2, 5),
        "regseconds": Requirement(_U2, 6),
    },
    # app_voicemail at load (and password CHAR n before writing a password longer than 10)
    "voicemail": {"uniqueid": Requirement(_U3, 11), "password": Requirement(_C, 10)},
    # app_queue at load
    "queue_members": {
        "paused": Requirement(_I1, 1),
        "uniqueid": Requirement(_U2, 5),
        "reason_paused": Requirement(_C, 80),
    },
    # app_meetme at load; per conference: confno as UINTEGER2/3/4 by its length
    "meetme": {"confno": Requirement(_U2, 3), "members": Requirement(_U1, 3)},
    # main/logger.c: five data columns only if this passes (else one "data" column)
    "queue_log": {
        "time": Requirement(_DT, 26),
        **{f"data{n}": Requirement(_C, 20) for n in range(1, 6)},
    },
}
REQUIREMENTS["sipregs"] = REQUIREMENTS["sippeers"]
