"""The unchanged ara-conformance suite on the ldap driver, against a throwaway slapd.

Twice: text columns in attributes that match like Asterisk's own (case-insensitive, spaces
squashed; the driver's client-side checks keep that out of results), and in byte-exact ones
(the server filters exactly). Integer columns are INTEGER attributes in both.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ara_conformance.suite import ConformanceTests
from ara_ldap.conformance import LdapTarget
from ara_testservers.slapd import SlapdServer


class TestLdap(ConformanceTests):
    @pytest.fixture(scope="class")
    @classmethod
    def ara_target(cls, slapd: SlapdServer) -> Iterator[LdapTarget]:
        target = LdapTarget(settings={**slapd.settings(), "basedn": slapd.suffix})
        yield target
        target.close()


class TestLdapExact(ConformanceTests):
    @pytest.fixture(scope="class")
    @classmethod
    def ara_target(cls, slapd: SlapdServer) -> Iterator[LdapTarget]:
        target = LdapTarget(settings={**slapd.settings(), "basedn": slapd.suffix}, exact=True)
        yield target
        target.close()
