"""ara-ldap: the LDAP driver for ara-realtime (``family => ldap,"<base DN>"[,table]``).

The driver module is :mod:`ara_ldap.driver`, found through the ``ara_realtime.drivers`` entry
point ``ldap``; settings and table sections come from Asterisk's ``res_ldap.conf``
(:mod:`ara_ldap.config`). The LDAP schema it ships (``ara-realtime.schema`` and its cn=config
form ``ara-realtime.ldif``) is found with :func:`schema_path`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["schema_path"]


def schema_path(kind: str = "schema") -> Path:
    """The shipped schema file: ``"schema"`` (slapd.conf format) or ``"ldif"`` (cn=config)."""
    if kind not in ("schema", "ldif"):
        raise ValueError("kind must be 'schema' or 'ldif'")
    return Path(str(resources.files(__name__) / "schema" / f"ara-realtime.{kind}"))
