"""Area ``like``: ``LIKE`` and ``NOT LIKE`` with ``%``, ``_`` and backslash escapes."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from ara_realtime import QueryError

from .._areas import conformance, register_standard
from .._base import ConformanceBase
from .._checks import check_load_multi
from .._profiles import examples
from .._strategies import like_patterns, text_values
from .._tables import PEERS
from .._target import Session, Target
from ._common import FAM, model_for, row_names, store_all

__all__ = ["LikeTests"]


_LIKE_NAMES = ["alice", "al_ice", "al", "50%off", "back\\slash", "a%b_c\\d", "a;b"]
_LIKE_CASES = [
    ("al%", ["al", "al_ice", "alice"]),
    ("al_ce", ["alice"]),
    ("al\\_%", ["al_ice"]),
    ("%\\%%", ["50%off", "a%b_c\\d"]),
    ("%e", ["al_ice", "alice"]),
    ("_", []),
    ("__", ["al"]),
    ("back\\\\slash", ["back\\slash"]),
    ("a\\%b\\_c\\\\d", ["a%b_c\\d"]),
    ("\\a\\l", ["al"]),
    ("%", _LIKE_NAMES),
    # a codec driver stores "a;b" as "a^3Bb": LIKE must see the decoded value
    ("a;_", ["a;b"]),
    ("a__", ["a;b"]),
    ("%3B%", []),
]


#: Values that only an escaped ``%``, ``_`` or backslash tells apart, with such patterns.
_ESCAPED = ["a%b", "a_b", "a\\b", "axb", "ab", "a\\%b"]
_ESCAPE_EXAMPLES = [
    (_ESCAPED, pattern) for pattern in ("a\\%b", "a\\_b", "a\\\\b", "%\\%%", "a\\\\%")
]


@st.composite
def _values_and_pattern(draw: st.DrawFn, ci: bool, max_length: int | None) -> tuple[list[str], str]:
    """A few values, and a LIKE pattern derived from one of them."""
    values = draw(
        st.lists(
            text_values(PEERS.size("secret"), ci_safe=ci, max_length=max_length),
            min_size=1,
            max_size=5,
        ),
        label="values",
    )
    base = draw(st.sampled_from(values), label="base")
    return values, draw(like_patterns(base), label="pattern")


@register_standard
class LikeTests(ConformanceBase):
    """``LIKE``/``NOT LIKE``: ``%``, ``_``, and ``\\`` escapes."""

    @conformance("like", ops=("store", "load_multi"))
    @pytest.mark.parametrize(("pattern", "expected"), _LIKE_CASES)
    def test_like_escapes(self, ara: Session, pattern: str, expected: list[str]) -> None:
        """``%`` any run, ``_`` one character, ``\\`` makes the next character literal.

        Usually broken by: no ESCAPE clause (MySQL's default differs, SQLite has none);
        LDAP substring filters without a client-side check.
        """
        for name in _LIKE_NAMES:
            ara.rt.store(FAM, {"name": name})
        got = sorted(r["name"] for r in ara.rt.load_multi(FAM, ("name LIKE", pattern)))
        assert got == sorted(expected), f"name LIKE {pattern!r}"
        not_like = sorted(r["name"] for r in ara.rt.load_multi(FAM, ("name NOT LIKE", pattern)))
        assert not_like == sorted(set(_LIKE_NAMES) - set(expected)), f"name NOT LIKE {pattern!r}"

    @conformance("like", ops=("store", "load_multi"))
    def test_like_matches_the_model(self, ara_target: Target) -> None:
        """Random values and patterns derived from them: the driver agrees with the model.

        Every escape (``\\%``, ``\\_``, ``\\\\``) is also tried on values it tells apart,
        on every run: the random examples alone may miss a driver without an escape character.
        """
        ci = ara_target.capabilities.case_insensitive

        limit = ara_target.capabilities.max_value_length

        @examples(_values_and_pattern(ci, limit), explicit=[(case,) for case in _ESCAPE_EXAMPLES])
        def check(case: tuple[list[str], str]) -> None:
            values, pattern = case
            with ara_target.open({FAM: PEERS}) as s:
                model = model_for(ara_target)
                store_all(s, model, [{"name": str(i), "secret": v} for i, v in enumerate(values)])
                check_load_multi(s.rt, FAM, model, [("secret", "LIKE", pattern)])
                check_load_multi(s.rt, FAM, model, [("secret", "NOT LIKE", pattern)])

        check()

    @conformance("like", ops=("store", "load_multi"))
    def test_like_treats_absent_as_empty(self, ara: Session) -> None:
        """An absent value is ``""`` for LIKE: ``%`` matches it, ``_%`` does not."""
        ara.rt.store(FAM, {"name": "with", "host": "h"})
        ara.rt.store(FAM, {"name": "without"})
        assert sorted(row_names(ara.rt.load_multi(FAM, ("host LIKE", "%")))) == ["with", "without"]
        assert row_names(ara.rt.load_multi(FAM, ("host LIKE", "_%"))) == ["with"]
        assert row_names(ara.rt.load_multi(FAM, ("host NOT LIKE", "_%"))) == ["without"]
        assert row_names(ara.rt.load_multi(FAM, ("host NOT LIKE", "h"))) == ["without"]

    @conformance("like", ops=("load", "load_multi"))
    def test_like_with_a_trailing_backslash_is_an_error(self, ara: Session) -> None:
        """A pattern ending in a lone ``\\`` is a ``QueryError``, even on an empty table."""
        for pattern in ("abc\\", "\\", "a\\\\\\"):
            with pytest.raises(QueryError, match="ends with an escaping backslash"):
                ara.rt.load(FAM, ("name LIKE", pattern))
            with pytest.raises(QueryError):
                ara.rt.load_multi(FAM, ("name NOT LIKE", pattern))
        if "store" in ara.target.capabilities.operations:
            ara.rt.store(FAM, {"name": "abc\\"})
        with pytest.raises(QueryError):
            ara.rt.load_multi(FAM, ("name LIKE", "abc\\"))
