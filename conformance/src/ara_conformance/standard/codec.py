"""Area ``codec``: Asterisk's on-disk ``^XX`` form, where the driver declares it."""

from __future__ import annotations

from ara_realtime import Capabilities

from .._areas import conformance, register_standard
from .._base import ConformanceBase
from .._target import Session
from ._common import FAM, row_names

__all__ = ["CodecTests"]


def _codec(caps: Capabilities) -> bool:
    return caps.codec


@register_standard
class CodecTests(ConformanceBase):
    """Asterisk's on-disk ``^XX`` form, where the driver declares it."""

    @conformance("codec", ops=("store",), backdoor="read", when=_codec, label="codec=True")
    def test_codec_storage_holds_asterisk_form(self, ara: Session) -> None:
        """``;`` is stored as ``^3B`` and ``^`` as ``^5E``, so Asterisk reads the same data.

        The hex digits are upper case, as Asterisk writes them: its ODBC driver decodes no
        other form (its pgsql and mysql drivers read both).
        """
        ara.rt.store(FAM, {"name": "c", "secret": "a;b^c", "@body": "^3B"})
        (raw,) = ara.raw(FAM)
        stored = (raw["secret"], raw["@body"])
        assert stored == ("a^3Bb^5Ec", "^5E3B"), f"stored {stored!r} for 'a;b^c' and '^3B'"

    @conformance(
        "codec", ops=("load", "load_multi"), backdoor="write", when=_codec, label="codec=True"
    )
    def test_codec_decodes_either_hex_case(self, ara: Session) -> None:
        """Rows Asterisk wrote (``^3B`` or ``^3b``) read back decoded."""
        ara.write_raw(FAM, {"name": "x", "secret": "a^3bb^5Ec"})
        assert ara.rt.load(FAM, name="x") == {"name": "x", "secret": "a;b^c"}
        assert row_names(ara.rt.load_multi(FAM, ("secret", "a;b^c"))) == ["x"]

    @conformance(
        "codec", ops=("store", "load", "load_multi", "update"), when=_codec, label="codec=True"
    )
    def test_codec_conditions_see_decoded_values(self, ara: Session) -> None:
        """Conditions and updates use the decoded values (``= 'a;b'``, ``LIKE '%;%'``)."""
        ara.rt.store(FAM, {"name": "a;b", "host": "^"})
        assert ara.rt.load(FAM, name="a;b") == {"name": "a;b", "host": "^"}
        assert row_names(ara.rt.load_multi(FAM, ("name LIKE", "%;%"))) == ["a;b"]
        assert row_names(ara.rt.load_multi(FAM, ("host LIKE", "^"))) == ["a;b"]
        assert row_names(ara.rt.load_multi(FAM, ("name LIKE", "a_b"))) == ["a;b"], (
            "_ must match one decoded character, not the three of ^3B"
        )
        assert row_names(ara.rt.load_multi(FAM, ("name LIKE", "%3B%"))) == [], (
            "LIKE matched the stored ^3B form"
        )
        assert ara.rt.update(FAM, "host", "^", {"context": ";"}) == 1
        assert ara.rt.load(FAM, context=";") == {"name": "a;b", "host": "^", "context": ";"}
