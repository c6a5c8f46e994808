"""Asterisk's ``^XX`` value codec: ``;`` -> ``^3B`` and ``^`` -> ``^5E`` on disk.

The SQL drivers store values this way by default so that Asterisk and ara-realtime can share a
table. Decoding accepts either hex case, as Asterisk's core decoder does.
"""

from __future__ import annotations

import re

__all__ = ["decode", "encode"]

_ENCODE = str.maketrans({";": "^3B", "^": "^5E"})
_DECODE_RE = re.compile(r"\^([0-9A-Fa-f]{2})")


def encode(value: str) -> str:
    """Encode ``;`` and ``^`` as ``^3B`` and ``^5E``."""
    if ";" not in value and "^" not in value:
        return value
    return value.translate(_ENCODE)


def _unhex(m: re.Match[str]) -> str:
    return chr(int(m.group(1), 16))


def decode(value: str) -> str:
    """Turn every ``^XX`` (either case) back into its character."""
    if "^" not in value:
        return value
    return _DECODE_RE.sub(_unhex, value)
