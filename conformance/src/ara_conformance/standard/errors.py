"""Area ``errors``: caller mistakes are a ``QueryError`` that names what is wrong."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import pytest

from ara_realtime import ConfigError, QueryError

from .._areas import conformance, register_standard
from .._base import ConformanceBase
from .._tables import PEERS
from .._target import Session, Target
from ._common import FAM

__all__ = ["ErrorsTests"]


@register_standard
class ErrorsTests(ConformanceBase):
    """Caller mistakes are ``QueryError``s that name what is wrong."""

    @conformance("errors", ops=("store", "load", "load_multi", "update", "update2", "destroy"))
    def test_unknown_column_names_family_table_and_column(self, ara: Session) -> None:
        """An unknown column is a ``QueryError`` with ``.family``, ``.table`` and ``.field``.

        Usually broken by: silently skipping unknown columns (Asterisk's pgsql driver).
        """
        rt = ara.rt
        rt.store(FAM, {"name": "alice"})
        table = ara.table(FAM)
        calls: list[tuple[str, Callable[[], object]]] = [
            ("load", lambda: rt.load(FAM, nosuch="x")),
            ("load_multi", lambda: rt.load_multi(FAM, ("nosuch LIKE", "%"))),
            (
                "load_multi (2nd condition)",
                lambda: rt.load_multi(FAM, ("name", "alice"), ("nosuch", "x")),
            ),
            ("update (value)", lambda: rt.update(FAM, "name", "alice", {"nosuch": "1"})),
            ("update (key)", lambda: rt.update(FAM, "nosuch", "alice", {"host": "1"})),
            ("update2", lambda: rt.update2(FAM, {"nosuch": "1"}, {"host": "x"})),
            ("store", lambda: rt.store(FAM, {"name": "b", "nosuch": "1"})),
            ("destroy", lambda: rt.destroy(FAM, "nosuch", "x")),
        ]
        for what, call in calls:
            with pytest.raises(QueryError) as info:
                call()
            err = info.value
            assert (err.family, err.table, err.field) == (FAM, table, "nosuch"), (
                f"{what}: QueryError must name family, table and column; got "
                f"family={err.family!r} table={err.table!r} field={err.field!r}"
            )
            assert "nosuch" in str(err), f"{what}: the message must name the column: {err}"
            assert table in str(err), f"{what}: the message must name the table: {err}"
        assert rt.load(FAM, name="alice") == {"name": "alice"}

    @conformance("errors", ops=("load",))
    def test_unknown_operators_are_query_errors(self, ara: Session) -> None:
        """Anything but the eight operators is a ``QueryError`` naming it."""
        for bad in [
            "name IS",
            "name REGEXP",
            "name = 1 OR 1",
            "name ~",
            "name <>",
            "name ==",
            "name !~",
            "name LIKE;",
        ]:
            with pytest.raises(QueryError, match="unknown operator") as info:
                ara.rt.load(FAM, (bad, "x"))
            assert bad.split(" ", 1)[1].split()[0] in str(info.value), str(info.value)

    @conformance("errors", ops=("store", "load"))
    def test_nul_is_rejected_before_any_io(self, ara_target: Target) -> None:
        """A NUL in a value is a ``QueryError`` (a ``ValueError``) raised before any I/O.

        Checked while the backend is down: a ``BackendError`` would mean I/O was attempted.
        """
        with ara_target.open({FAM: PEERS}, roles=("primary",), faults=True) as s:
            s.rt.store(FAM, {"name": "a"})
            with s.outage("primary"):
                for call in (
                    lambda: s.rt.store(FAM, {"name": "x\x00y"}),
                    lambda: s.rt.load(FAM, name="\x00"),
                    lambda: s.rt.load_multi(FAM, ("name LIKE", "%\x00")),
                    lambda: s.rt.update(FAM, "name", "a", {"host": "\x00"}),
                    lambda: s.rt.destroy(FAM, "name", "a\x00"),
                ):
                    with pytest.raises(QueryError) as info:
                        call()
                    assert isinstance(info.value, ValueError)
                    assert "NUL" in str(info.value)
            time.sleep(ara_target.backoff * 3)
            assert s.rt.load(FAM, name="a") == {"name": "a"}

    @conformance("errors", ops=("store", "load"))
    def test_lone_surrogates_are_rejected_before_any_io(self, ara_target: Target) -> None:
        """A lone surrogate (``"\\ud800"``: not Unicode text, no storage can encode it) is a
        ``QueryError`` raised before any I/O, like NUL; a proper pair (an emoji) is text.

        Usually broken by: a ``UnicodeEncodeError`` from the client library, after a
        connection was taken (or, worse, a ``BackendError`` that fails over).
        """
        with ara_target.open({FAM: PEERS}, roles=("primary",), faults=True) as s:
            s.rt.store(FAM, {"name": "a"})
            with s.outage("primary"):
                for call in (
                    lambda: s.rt.store(FAM, {"name": "x\ud800y"}),
                    lambda: s.rt.load(FAM, name="\udfff"),
                    lambda: s.rt.load(FAM, ("name", "é\ud83d")),
                    lambda: s.rt.load_multi(FAM, ("name LIKE", "%\ud800")),
                    lambda: s.rt.update(FAM, "name", "a", {"host": "\ud800"}),
                    lambda: s.rt.update2(FAM, {"name": "\ud800"}, {"host": "h"}),
                    lambda: s.rt.destroy(FAM, "name", "a\udc00"),
                ):
                    with pytest.raises(QueryError, match="surrogate") as info:
                        call()
                    assert isinstance(info.value, ValueError)
            time.sleep(ara_target.backoff * 3)
            assert s.rt.load(FAM, name="a") == {"name": "a"}  # (a read reconnects first)
            assert s.rt.store(FAM, {"name": "🎉", "host": "ok"}) == 1
            assert s.rt.load(FAM, name="🎉") == {"name": "🎉", "host": "ok"}

    @conformance("errors", ops=("store", "load", "update"))
    def test_errors_never_carry_written_values(self, ara: Session) -> None:
        """A ``QueryError`` names the family, table and column, never the value written or
        looked up (server messages quote them: ``invalid input syntax for type integer:
        "..."``, ``Incorrect integer value: '...'``, ``Duplicate entry '...'``).

        Usually broken by: passing the server's message on as it is.
        """
        marker = "Sekr3t-value-7f3a"
        rt = ara.rt
        rt.store(FAM, {"name": "a"})
        attempts: list[Callable[[], Any]] = [
            lambda: rt.store(FAM, {"name": "b", "port": f"{marker} is no number"}),
            lambda: rt.update(FAM, "name", "a", {"lastms": f"{marker}!"}),
            lambda: rt.store(FAM, {"name": marker * 40}),
            lambda: rt.load(FAM, ("port", marker)),
            lambda: rt.load_multi(FAM, ("lastms >", marker)),
        ]
        for attempt in attempts:
            try:
                attempt()
            except QueryError as exc:
                text = f"{exc} {exc!r} {exc.args!r}"
                assert marker not in text, f"the error shows the value: {text}"
                assert exc.family == FAM or FAM in str(exc), f"the error names no family: {text}"

    @conformance("errors", ops=("store", "load", "update"))
    def test_an_oversized_value_is_refused_or_kept(self, ara: Session) -> None:
        """A 20 MB value (60 MB after the ``^XX`` codec, being all ``;``) is stored and read
        back exactly, or refused with a ``QueryError`` that stores nothing; either way the
        backend stays healthy and the next call works.

        Usually broken by: a server that drops the connection on a too-large packet (MySQL's
        ``max_allowed_packet``, slapd's incoming limit), reported as ``BackendError``: failover,
        back-off, and the same error on every backend.
        """
        rt = ara.rt
        rt.store(FAM, {"name": "small", "host": "h"})
        for name, value in (("big", "x" * 20_000_000), ("semi", ";" * 20_000_000)):
            try:
                rt.store(FAM, {"name": name, "secret": value})
            except QueryError:
                assert rt.load(FAM, name=name) is None, f"a refused {name} value left a row"
            else:
                got = rt.load(FAM, name=name)
                assert got is not None and got.get("secret") == value, f"{name} value altered"
            with contextlib.suppress(QueryError):
                rt.update(FAM, "name", "small", {"host": value})
            assert rt.load(FAM, name="small") in (
                {"name": "small", "host": "h"},
                {"name": "small", "host": value},
            )

    @conformance("errors", ops=("load", "load_multi", "update2"))
    def test_at_least_one_condition(self, ara: Session) -> None:
        """``load``, ``load_multi`` and ``update2`` need a condition."""
        with pytest.raises(QueryError, match="at least one condition"):
            ara.rt.load(FAM)
        with pytest.raises(QueryError, match="at least one condition"):
            ara.rt.load_multi(FAM)
        with pytest.raises(QueryError):
            ara.rt.update2(FAM, {}, {"host": "x"})

    @conformance("errors", ops=("store", "load", "load_multi"))
    def test_invalid_names_and_values_never_reach_storage(self, ara: Session) -> None:
        """Column names that are not identifiers, and non-``str`` values, are refused."""
        for bad in ['na"me', 'name"', "name'", "", "-x", "a;b", "a)", "na me", "a b c d", "x\x00"]:
            with pytest.raises(QueryError):
                ara.rt.store(FAM, {bad: "x"})
        with pytest.raises(QueryError, match="invalid column name"):
            ara.rt.load(FAM, ("name;", "x"))
        with pytest.raises(QueryError, match="must be str"):
            ara.rt.store(FAM, {"name": "x", "port": 5060})  # type: ignore[dict-item]
        with pytest.raises(QueryError):
            ara.rt.load(FAM, ("name", None))  # type: ignore[arg-type]
        assert ara.rt.load_multi(FAM, ("name LIKE", "%")) == []

    @conformance("errors", ops=("load",))
    def test_malformed_conditions_are_query_errors(self, ara: Session) -> None:
        """A condition that is not a ``(str, str)`` pair is a ``QueryError``, never a query."""
        bad: list[Any] = [("name", "a", "b"), ("name",), ["name", "a"], ("name", None), (1, "a")]
        for cond in bad:
            with pytest.raises(QueryError):
                ara.rt.load(FAM, cond)
        with pytest.raises(QueryError, match="field name must be str"):
            ara.rt.load(FAM, (1, "a"))  # type: ignore[arg-type]

    @conformance("errors", ops=("store", "update2", "load_multi"))
    def test_writes_need_columns_given_once(self, ara: Session) -> None:
        """A write with no column, or with a column given twice, is refused."""
        with pytest.raises(QueryError, match="at least one column"):
            ara.rt.store(FAM, {})
        twice: Any = [("host", "1"), ("host", "2")]
        with pytest.raises(QueryError, match="given twice"):
            ara.rt.update2(FAM, {"name": "a"}, twice)
        assert ara.rt.load_multi(FAM, ("name LIKE", "%")) == []

    @conformance("errors", ops=("store", "load"))
    def test_family_names_ignore_case_and_unmapped_ones_are_refused(self, ara: Session) -> None:
        """``PEERS`` is the family ``peers``; a family with no mapping is a ``ConfigError``."""
        ara.rt.store(FAM, {"name": "a"})
        assert ara.rt.load(FAM.upper(), name="a") == {"name": "a"}
        assert ara.rt.is_mapped(FAM.capitalize()) and not ara.rt.is_mapped("voicemail")
        with pytest.raises(ConfigError, match="not mapped"):
            ara.rt.load("voicemail", mailbox="1")

    @conformance("errors", ops=("store", "load", "update"))
    def test_values_a_column_cannot_hold_are_refused_or_kept(self, ara: Session) -> None:
        """A value too long for its column, or not a number for an integer column, is either
        refused with a ``QueryError`` that changes nothing, or stored and read back exactly.

        Usually broken by: silent truncation or conversion (MySQL outside strict mode, a
        ``VARCHAR`` cut to size); a server's "value too long" reported as ``BackendError``
        (which would fail over).
        """
        rt = ara.rt
        rt.store(FAM, {"name": "a", "host": "h", "port": "5060"})
        long_name = "x" * (PEERS.size("name") * 10)
        try:
            rt.store(FAM, {"name": long_name})
        except QueryError:
            assert rt.load(FAM, ("name LIKE", "x%")) is None, "a refused store left a row"
        else:
            assert rt.load(FAM, ("name LIKE", "x%")) == {"name": long_name}, "value altered"
        for column, value in [("port", "not a number"), ("port", "-1"), ("port", "70000")]:
            before = rt.load(FAM, name="a")
            try:
                assert rt.update(FAM, "name", "a", {column: value, "host": value}) == 1
            except QueryError:
                assert rt.load(FAM, name="a") == before, "a refused update changed the row"
            else:
                got = rt.load(FAM, name="a")
                assert got is not None and got.get(column) == value and got["host"] == value, (
                    f"{column} = {value!r} was accepted but reads back as {got!r}"
                )
