"""The tables the suite defines: names, columns, ``RQ`` types and sizes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ara_realtime.datatypes import RQ, Requirement

__all__ = ["ASTERISK_COLUMNS", "PEERS", "STATIC", "TableSpec"]


@dataclass(frozen=True)
class TableSpec:
    """A table the suite needs: its logical name and its columns in order."""

    name: str
    columns: Mapping[str, Requirement]

    @property
    def integer(self) -> frozenset[str]:
        """Columns of an integer ``RQ`` type (compared and ordered numerically)."""
        return frozenset(c for c, r in self.columns.items() if r.type.is_int)

    @property
    def text(self) -> tuple[str, ...]:
        """Text columns, in table order."""
        return tuple(c for c, r in self.columns.items() if not r.type.is_int)

    def size(self, column: str) -> int:
        """Characters a value of ``column`` may have."""
        return self.columns[column].size

    def with_columns(self, name: str, extra: Mapping[str, Requirement]) -> TableSpec:
        """A copy named ``name`` with ``extra`` columns appended."""
        return TableSpec(name, MappingProxyType({**self.columns, **extra}))


def _spec(name: str, columns: dict[str, tuple[RQ, int]]) -> TableSpec:
    return TableSpec(
        name, MappingProxyType({c: Requirement(t, s) for c, (t, s) in columns.items()})
    )


#: A sippeers/ps_endpoints-like table, with the column names that broke Asterisk drivers.
PEERS = _spec(
    "peers",
    {
        "name": (RQ.CHAR, 40),
        "host": (RQ.CHAR, 40),
        "secret": (RQ.CHAR, 80),
        "context": (RQ.CHAR, 40),
        "port": (RQ.UINTEGER2, 5),
        "lastms": (RQ.INTEGER4, 11),
        "regseconds": (RQ.INTEGER8, 20),
        "100rel": (RQ.CHAR, 10),
        "@body": (RQ.CHAR, 80),
        "event_asterisk-mwi": (RQ.CHAR, 40),
        "session-timers": (RQ.CHAR, 9),
    },
)

#: Asterisk's static configuration table (``ast_config``), as in its contrib schemas.
STATIC = _spec(
    "ast_config",
    {
        "id": (RQ.INTEGER4, 11),
        "cat_metric": (RQ.INTEGER4, 11),
        "var_metric": (RQ.INTEGER4, 11),
        "commented": (RQ.INTEGER2, 6),
        "filename": (RQ.CHAR, 128),
        "category": (RQ.CHAR, 128),
        "var_name": (RQ.CHAR, 128),
        "var_val": (RQ.CHAR, 128),
    },
)

#: Real column names from Asterisk's realtime schemas (sippeers, ps_endpoints,
#: ps_outbound_publishes, ps_inbound_publications), the awkward ones
#: first. Used to build tables with random column sets where the driver can create them.
ASTERISK_COLUMNS: tuple[str, ...] = (
    "100rel",
    "@body",
    "@context",
    "@exten",
    "event_asterisk-mwi",
    "event_asterisk-devicestate",
    "session-timers",
    "session-expires",
    "session-minse",
    "session-refresher",
    "call-limit",
    "t38pt_usertpsource",
    "t38_udptl_ec",
    "rtp_symmetric",
    "direct_media_method",
    "mwi_subscribe_replaces_unsolicited",
    "contact_user",
    "fax_detect_timeout",
    "useragent",
    "fullcontact",
    "defaultuser",
    "max_audio_streams",
)
