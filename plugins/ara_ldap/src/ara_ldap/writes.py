"""Where writes go: ``write_url``, or where reads go, following a replica's referral.

A read-only replica (an OpenLDAP syncrepl consumer with ``updateref``) answers a write with a
referral to its provider. With ``write_url`` set, writes (and the searches that find the
entries ``update`` and ``destroy`` change) go to its servers and no referral is needed.
Without it they go where reads go; a referral is followed once to the server it names, if
that server is one of ``url``'s or ``write_url``'s, and later writes go to it directly until
it fails. A referral to a server not listed is a ``BackendError`` naming it: following it
would send the bind password to a host the configuration does not trust.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

import ldap3

from ara_realtime import BackendError

from .config import Settings
from .pool import Pool

__all__ = ["REFERRAL", "Writes"]

#: The result code of a referral.
REFERRAL = 10


def server_of(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an LDAP URL (a referral's DN part ignored)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
        return None
    return (parts.scheme, parts.hostname.lower(), port or (636 if parts.scheme == "ldaps" else 389))


class Writes:
    """The pool each write goes to, for one connection (``reads``: the pool reads use)."""

    def __init__(self, settings: Settings, label: str, reads: Pool, base: str = "") -> None:
        self.settings = settings
        self.label = label
        self.reads = reads
        # its messages name the servers writes go to, not the ones reads go to
        where = f"ldap {' '.join(settings.write_urls)}" + (f" base {base!r}" if base else "")
        self.configured = (
            Pool(settings, f"{where} (writes)", settings.write_urls)
            if settings.write_urls
            else None
        )
        self._listed: dict[tuple[str, str, int], str] = {}
        for url in (*settings.urls, *settings.write_urls):
            key = server_of(url)
            if key is not None:
                self._listed.setdefault(key, url)
        self._referred: dict[str, Pool] = {}
        self._learned: Pool | None = None
        self._lock = threading.Lock()

    @property
    def pool(self) -> Pool:
        """Where the next write goes (and the search finding what it changes)."""
        return self.configured or self._learned or self.reads

    def pools(self) -> list[tuple[str, Pool]]:
        """``(name, pool)`` of the write pools besides the read pool (``realtime status``)."""
        out = [("ldap writes", self.configured)] if self.configured is not None else []
        out += [(f"ldap writes {url}", pool) for url, pool in self._referred.items()]
        return [(name, pool) for name, pool in out if pool is not None]

    def write(self, call: Callable[[ldap3.Connection], Any], what: str) -> dict[str, Any]:
        """Run one write where writes go, following a referral once (see the module)."""
        pool = self.pool
        try:
            result = pool.write(call, what)
        except BackendError:
            if pool is self._learned:
                self._learned = None  # the next write asks where writes go now
            raise
        if result.get("result") != REFERRAL:
            return result
        target = self._follow(result.get("referrals") or [], what)
        try:
            result = target.write(call, what)
        except BackendError:
            self._learned = None
            raise
        if result.get("result") == REFERRAL:
            raise BackendError(
                f"{self.label}: {what}: {target.label} refers the write on again "
                f"(to {', '.join(_servers(result.get('referrals') or []))}); set write_url"
            )
        self._learned = target
        return result

    def _follow(self, referrals: Sequence[str], what: str) -> Pool:
        for url in referrals:
            key = server_of(url)
            listed = self._listed.get(key) if key is not None else None
            if listed is None:
                continue
            with self._lock:
                pool = self._referred.get(listed)
                if pool is None:
                    pool = Pool(self.settings, f"{self.label} (writes: {listed})", [listed])
                    self._referred[listed] = pool
            return pool
        shown = ", ".join(_servers(referrals)) or "nowhere"
        raise BackendError(
            f"{self.label}: {what}: the server refers writes to {shown}, which is not listed "
            "in url or write_url (the bind password is sent only to listed servers): set "
            "write_url"
        )

    def close(self) -> None:
        for _, pool in self.pools():
            pool.close()


def _servers(referrals: Sequence[str]) -> list[str]:
    """The servers of referral URLs, without their DN part."""
    out = []
    for url in referrals:
        key = server_of(url)
        out.append(f"{key[0]}://{key[1]}:{key[2]}" if key else "an URL that is not LDAP")
    return out
