"""SIP peers and PJSIP contacts as Asterisk's channel drivers read and write them.

:class:`SipPeers` follows chan_sip (``sippeers``, and ``sipregs`` when it is mapped: peer
rows merged by name, registration writes going to ``sipregs``): the order of its look-ups,
its column names and values. :class:`PjsipContacts` does the same for PJSIP's
``ps_contacts``, as res_pjsip's registrar stores contacts through sorcery. Everything goes
through the public :class:`Realtime` API, so any driver serves them. See docs/peers.md.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from .conditions import ConditionsArg
from .datatypes import RequirementSpec, Row
from .errors import QueryError
from .realtime import Realtime

__all__ = ["Peer", "PjsipContacts", "SipPeers"]

log = logging.getLogger(__name__)

#: What chan_sip asks of the registration table at load (``ast_realtime_require_field``).
REGISTRATION_COLUMNS: dict[str, RequirementSpec] = {
    "name": ("char", 10),
    "ipaddr": ("char", 45),
    "port": ("uinteger2", 5),
    "regseconds": ("integer4", 11),
    "defaultuser": ("char", 10),
    "fullcontact": ("char", 35),
    "regserver": ("char", 20),
    "useragent": ("char", 20),
    "lastms": ("integer4", 11),
}

#: What chan_sip writes when a registration ends (``destroy_association``).
_UNREGISTERED = {
    "fullcontact": "",
    "ipaddr": "",
    "port": "0",
    "regseconds": "0",
    "regserver": "",
    "useragent": "",
    "lastms": "0",
}
_FALSE = {"no", "false", "n", "f", "0", "off"}  # Asterisk's ast_false


def address(text: str) -> str:
    """An IP address as Asterisk prints a source address (no brackets, no port; an
    IPv4-mapped IPv6 address as plain IPv4)."""
    try:
        ip = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        raise QueryError(f"not an IP address: {text!r}") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _port(port: int | str) -> str:
    try:
        n = int(port)
    except (TypeError, ValueError):
        n = -1
    if isinstance(port, bool) or not 0 < n < 65536:
        raise QueryError(f"not a port number: {port!r}")
    return str(n)


def insecure_port(value: str | None) -> bool:
    """Does an ``insecure`` value allow any source port (chan_sip's ``insecure=port``)?"""
    if not value or value.lower() in _FALSE:
        return False
    return any(word.lower() == "port" for word in value[:63].split(","))


def _name(row: Row) -> str | None:
    """The row's ``name`` (found case-insensitively), None when missing or empty."""
    for key, value in row.items():
        if key.lower() == "name":
            return value or None
    return None


#: Columns that identify a row of its own table: the merged peer keeps ``sippeers``' ones.
_OWN_COLUMNS = frozenset({"id", "name"})


def merge(peer: Row, registration: Row | None) -> Row:
    """The peer as chan_sip builds it: its ``sippeers`` columns, then the ``sipregs`` ones
    over them (column names compared case-insensitively; the peer's spelling kept), except
    ``id`` and ``name``: they stay the ``sippeers`` row's, which the peer is (chan_sip reads
    neither; the ``sipregs`` row's are in :attr:`Peer.registration`)."""
    if not registration:
        return dict(peer)
    merged = dict(peer)
    spelled = {k.lower(): k for k in peer}
    for key, value in registration.items():
        lower = key.lower()
        if lower in _OWN_COLUMNS:
            continue
        merged[spelled.get(lower, key)] = value
    return merged


@dataclass(frozen=True)
class Peer:
    """A realtime SIP peer: the merged row, the rows it came from, and the look-up that
    found it (``found_by``, for explanations)."""

    name: str
    row: Row
    peer: Row = field(repr=False)
    registration: Row | None = field(repr=False)
    found_by: str

    def expired(self, now: float | None = None) -> bool:
        """Has its registration (``regseconds``) run out? Never for a peer without one."""
        value = next((v for k, v in self.row.items() if k.lower() == "regseconds"), "")
        try:
            until = int(value)
        except ValueError:
            return False
        return 0 < until < (time.time() if now is None else now)


class SipPeers:
    """chan_sip's realtime peers over ``peers`` (``sippeers``) and, when it is mapped,
    ``registrations`` (``sipregs``)."""

    def __init__(
        self, rt: Realtime, *, peers: str = "sippeers", registrations: str = "sipregs"
    ) -> None:
        self.rt = rt
        self.peers = peers
        self.registrations = registrations

    @property
    def uses_registrations(self) -> bool:
        """Is the registrations family (``sipregs``) mapped?"""
        return self.rt.is_mapped(self.registrations)

    @property
    def registration_family(self) -> str:
        """Where registrations are written: ``sipregs`` when mapped, else ``sippeers``."""
        return self.registrations if self.uses_registrations else self.peers

    def _load(self, family: str, *conditions: ConditionsArg) -> Row | None:
        return self.rt.load(family, *conditions)

    # -- look-ups --------------------------------------------------------------------------

    def by_name(self, name: str, source: str | None = None) -> Peer | None:
        """The peer ``name`` (``realtime_peer_by_name``): the row with ``host=dynamic``;
        else, given the request's ``source`` address, the row whose ``host`` is that
        address; else (no source) the row by name alone."""
        if not name:
            raise QueryError("a peer name must not be empty")
        row = self._load(self.peers, ("name", name), ("host", "dynamic"))
        how = "name, host=dynamic"
        if row is None and source is not None:
            ip = address(source)
            # chan_sip then re-reads the row by name and checks that its host resolves to
            # the source: the same row, since its host is that very address
            row = self._load(self.peers, ("name", name), ("host", ip))
            how = f"name, host={ip}"
        elif row is None:
            row = self._load(self.peers, ("name", name))
            how = "name"
        if row is None:
            return None
        registration = None
        if self.uses_registrations:
            registration = self._load(self.registrations, ("name", name))
        return Peer(name, merge(row, registration), row, registration, how)

    def by_address(
        self, source: str, port: int | str, callbackextension: str | None = None
    ) -> Peer | None:
        """The peer a request from ``source``:``port`` comes from (``realtime_peer_by_addr``),
        first hit wins: a fixed host with that port (and callback extension, when given);
        a registered address and port; a fixed host, then a registered address, whose
        ``insecure`` includes ``port``."""
        ip, portstr = address(source), _port(port)
        regs = self.uses_registrations
        peer: Row | None = None
        registration: Row | None = None
        name: str | None = None
        how = ""
        if callbackextension:
            peer = self._load(
                self.peers,
                ("host", ip),
                ("port", portstr),
                ("callbackextension", callbackextension),
            )
            how = f"host={ip}, port={portstr}, callbackextension={callbackextension}"
        if peer is None:
            peer = self._load(self.peers, ("host", ip), ("port", portstr))
            how = f"host={ip}, port={portstr}"
        if peer is None and regs:
            registration = self._load(self.registrations, ("ipaddr", ip), ("port", portstr))
            if registration is not None:
                name = _name(registration)
                if name is None:
                    log.warning("found a %s row for %s but it has no name", self.registrations, ip)
                else:
                    peer = self._load(self.peers, ("name", name))
                    how = f"{self.registrations}: ipaddr={ip}, port={portstr}"
                if peer is None:
                    registration, name = None, None
        elif peer is None:
            peer = self._load(self.peers, ("ipaddr", ip), ("port", portstr))
            how = f"ipaddr={ip}, port={portstr}"
        if peer is None:
            peer = self._insecure(self.peers, ("host", ip))
            how = f"host={ip}, insecure=port"
        if peer is None and regs:
            found = self._insecure_registered(ip)
            if found is not None:
                registration, peer = found
                how = f"{self.registrations}: ipaddr={ip}, insecure=port"
        elif peer is None:
            peer = self._insecure(self.peers, ("ipaddr", ip))
            how = f"ipaddr={ip}, insecure=port"
        if peer is None:
            return None
        if name is None:
            name = _name(peer)
            if name is None:
                log.warning("found a peer for %s but it has no name", ip)
                return None
        if regs and registration is None:
            registration = self._load(self.registrations, ("name", name))
        return Peer(name, merge(peer, registration), peer, registration, how)

    def _insecure(self, family: str, where: tuple[str, str]) -> Row | None:
        rows = self.rt.load_multi(family, where, ("insecure LIKE", "%port%"))
        return next((r for r in _by_name(rows) if insecure_port(_get(r, "insecure"))), None)

    def _insecure_registered(self, ip: str) -> tuple[Row, Row] | None:
        """chan_sip's last resort with sipregs: registrations from ``ip`` joined by name
        (case-insensitively) to every peer that is ``insecure=port``."""
        regs = self.rt.load_multi(self.registrations, ("ipaddr", ip))
        if not regs:
            return None
        peers = _by_name(self.rt.load_multi(self.peers, ("insecure LIKE", "%port%")))
        for reg in _by_name(regs):
            regname = _name(reg)
            if regname is None:
                break  # chan_sip stops at a nameless row
            for peer in peers:
                peername = _name(peer)
                if peername is None:
                    break
                if peername.lower() == regname.lower() and insecure_port(_get(peer, "insecure")):
                    return reg, peer
        return None

    # -- writes ----------------------------------------------------------------------------

    def register(
        self,
        name: str,
        source: str | None,
        port: int | str | None,
        *,
        expiry: int,
        defaultuser: str = "",
        useragent: str = "",
        lastms: int = 0,
        fullcontact: str | None = None,
        path: str | None = None,
        regserver: str | None = None,
        username_column: bool = False,
        now: float | None = None,
    ) -> int:
        """Record a registration as chan_sip does (``realtime_update_peer``); rows matched.

        Written to ``sipregs`` when mapped, else ``sippeers``, keyed by ``name``:
        ``ipaddr``, ``port``, ``regseconds`` (now + ``expiry``, whole seconds),
        ``defaultuser`` (``username`` with ``username_column``, for old tables),
        ``useragent``, ``lastms``; ``path`` (chan_sip's ``rtsavepath``), ``fullcontact`` and
        ``regserver`` (``rtsavesysname``) only when given.
        """
        if not name:
            raise QueryError("a peer name must not be empty")
        if isinstance(expiry, bool) or not isinstance(expiry, int):
            raise QueryError(f"expiry must be whole seconds, not {expiry!r}")
        values = {
            "ipaddr": address(source) if source else "",
            "port": _port(port) if port else "",
            "regseconds": str(int((time.time() if now is None else now) + expiry)),
            "username" if username_column else "defaultuser": defaultuser,
            "useragent": useragent,
            "lastms": str(int(lastms)),
        }
        for column, value in (("path", path), ("fullcontact", fullcontact)):
            if value is not None:
                values[column] = value
        if regserver is not None:
            values["regserver"] = regserver
        return self._write(name, values)

    def unregister(self, name: str) -> int:
        """Clear a registration as chan_sip does when it expires (``destroy_association``):
        ``fullcontact``, ``ipaddr``, ``regserver``, ``useragent`` emptied, ``port``,
        ``regseconds`` and ``lastms`` set to 0; rows matched."""
        if not name:
            raise QueryError("a peer name must not be empty")
        return self._write(name, _UNREGISTERED)

    def qualify(self, name: str, lastms: int | None) -> int:
        """Record a qualify result: the round trip in ms, or None for unreachable (-1)."""
        value = "-1" if lastms is None else str(int(lastms))
        return self._write(name, {"lastms": value})

    def _write(self, name: str, values: Mapping[str, str]) -> int:
        """Update the peer's registration row, as chan_sip does: never an insert. With
        ``sipregs``, a peer without a row there is written nowhere: said once per call."""
        n = self.rt.update(self.registration_family, "name", name, values)
        if n == 0 and self.uses_registrations:
            log.warning(
                "peer %r has no %s row: chan_sip only updates registration rows, so nothing "
                "was written (store a row with its name: realtime import sippeers does)",
                name,
                self.registrations,
            )
        return n

    def require(self) -> bool:
        """The registration columns chan_sip requires (created in the create modes)."""
        return self.rt.require(self.registration_family, REGISTRATION_COLUMNS)


def _get(row: Row, column: str) -> str | None:
    return next((v for k, v in row.items() if k.lower() == column), None)


def _by_name(rows: list[Row]) -> list[Row]:
    """Rows in a fixed order whatever the storage returned (nameless rows last)."""
    return sorted(rows, key=lambda r: (_name(r) is None, _name(r) or ""))


# -- PJSIP ------------------------------------------------------------------------------------


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PjsipContacts:
    """PJSIP's dynamic contacts (``ps_contacts``) as res_pjsip stores them through sorcery:
    one row per contact, ``id`` = ``<aor>;@<md5 of the contact URI>``."""

    def __init__(self, rt: Realtime, family: str = "ps_contacts") -> None:
        self.rt = rt
        self.family = family

    @staticmethod
    def contact_id(aor: str, uri: str) -> str:
        """The id res_pjsip gives the contact ``uri`` of ``aor``."""
        digest = hashlib.md5(uri.encode(), usedforsecurity=False).hexdigest()
        return f"{aor};@{digest}"

    def by_id(self, contact_id: str) -> Row | None:
        return self.rt.load(self.family, ("id", contact_id))

    def by_aor(self, aor: str) -> list[Row]:
        """The contacts of ``aor`` (sorcery's ``id LIKE '<aor>;@%'``, with ``%``, ``_`` and
        ``\\`` in the name taken literally, which sorcery does not do)."""
        if not aor:
            raise QueryError("an AOR name must not be empty")
        return self.rt.load_multi(self.family, ("id LIKE", _like_literal(f"{aor};@") + "%"))

    def by_address(self, source: str, port: int | str) -> list[Row]:
        """The contacts registered from ``source``:``port`` (their ``via_addr``/``via_port``)."""
        return self.rt.load_multi(
            self.family, ("via_addr", address(source)), ("via_port", _port(port))
        )

    def register(
        self,
        aor: str,
        uri: str,
        *,
        expires: int,
        now: float | None = None,
        **fields: str | int,
    ) -> str:
        """Add or refresh the contact ``uri`` of ``aor``, expiring ``expires`` seconds from
        now; its id. Other columns (``user_agent``, ``path``, ``via_addr``, ``via_port``,
        ``call_id``, ``endpoint``, ``reg_server``, ``qualify_frequency``, ...) as given.

        As sorcery: update the row with that id, and insert it when there was none.
        """
        if not aor or not uri:
            raise QueryError("the AOR and the contact URI must not be empty")
        if isinstance(expires, bool) or not isinstance(expires, int) or expires < 0:
            raise QueryError(f"expires must be whole seconds >= 0, not {expires!r}")
        contact_id = self.contact_id(aor, uri)
        moment = time.time() if now is None else now
        values: dict[str, str] = {
            "uri": uri,
            "expiration_time": str(int(moment) + expires),
            **_texts(fields),
        }
        if "id" in values:
            raise QueryError("the id is made from the AOR and the URI; do not give one")
        if self.rt.update(self.family, "id", contact_id, values) == 0:
            self.rt.store(self.family, {"id": contact_id, **values})
        return contact_id

    def unregister(self, aor: str, uri: str) -> int:
        """Remove the contact ``uri`` of ``aor``; rows deleted."""
        return self.remove(self.contact_id(aor, uri))

    def remove(self, contact_id: str) -> int:
        if not contact_id:
            raise QueryError("a contact id must not be empty")
        return self.rt.destroy(self.family, "id", contact_id)

    def expired(self, now: float | None = None) -> list[Row]:
        """Contacts whose ``expiration_time`` has passed (the registrar's
        ``expiration_time <=`` now)."""
        moment = int(time.time() if now is None else now)
        return self.rt.load_multi(self.family, ("expiration_time <=", str(moment)))


def _texts(fields: Mapping[str, object]) -> dict[str, str]:
    out = {}
    for key, value in fields.items():
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            out[key] = str(value)
        else:  # a bool has no single spelling here (yes/no, true/false): the caller's choice
            raise QueryError(f"column {key!r}: give text or a whole number, not {value!r}")
    return out
