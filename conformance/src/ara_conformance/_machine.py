"""The stateful test: random sequences of operations on the driver and on the model.

Every step runs on both; every result (rows, counts, errors) is compared, and where the target
has a back door, the storage itself is compared with the model's rows. Each run (hypothesis
example) starts from a fresh, empty mapping.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from ._checks import check_load, check_load_multi, pairs, show
from ._model import Cond, Model
from ._strategies import HOSTILE, condition, integer_values, rows, text_values
from ._tables import PEERS
from ._target import Session, Target

__all__ = ["FAMILY", "ConformanceMachine"]

FAMILY = "peers"
_POOL_LIMIT = 24


class ConformanceMachine(RuleBasedStateMachine):
    """Driver vs model on one table, with the operations the driver declares."""

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target
        self.caps = target.capabilities
        self.session: Session = target.open({FAMILY: PEERS})
        self.rt = self.session.rt
        self.model = Model(
            list(PEERS.columns),
            PEERS.integer,
            case_insensitive=self.caps.case_insensitive,
            text_order=self.caps.text_order,
        )
        self.pool: list[str] = []
        self.last_update: tuple[Cond, dict[str, str]] | None = None
        self.ci = self.caps.case_insensitive
        self.text_ordering = self.caps.text_order == "binary"
        self.max_length = self.caps.max_value_length

    def teardown(self) -> None:
        self.session.close()

    # -- helpers --------------------------------------------------------------------------

    def can(self, *ops: str) -> bool:
        return all(op in self.caps.operations for op in ops)

    def remember(self, values: dict[str, str]) -> None:
        for value in values.values():
            if value and value not in self.pool:
                self.pool.append(value)
        del self.pool[:-_POOL_LIMIT]

    def draw_conditions(self, data: st.DataObject, label: str, most: int = 3) -> list[Cond]:
        strategy = condition(
            PEERS, tuple(self.pool), ci_safe=self.ci, text_ordering=self.text_ordering
        )
        conds: list[Cond] = data.draw(st.lists(strategy, min_size=1, max_size=most), label=label)
        if data.draw(st.integers(0, 3), label="broad") == 0:
            # every row matches: merged rows, counts and order show up
            column = data.draw(st.sampled_from(list(PEERS.columns)), label="broad column")
            conds = [(column, "LIKE", "%"), *conds[: most - 1]]
        return conds

    def draw_values(self, data: st.DataObject) -> dict[str, str]:
        return data.draw(
            rows(PEERS, tuple(self.pool), ci_safe=self.ci, max_length=self.max_length),
            label="values",
        )

    # -- rules ----------------------------------------------------------------------------

    @initialize(
        texts=st.lists(text_values(20), min_size=1, max_size=5, unique=True),
        numbers=st.lists(integer_values(PEERS.columns["lastms"]), max_size=3, unique=True),
        data=st.data(),
    )
    def seed(self, texts: list[str], numbers: list[str], data: st.DataObject) -> None:
        """A pool of values for rows and conditions, and a table that is not always empty
        (so that conditions match several rows: merged rows, counts, order show up)."""
        tricky = data.draw(st.lists(st.sampled_from(HOSTILE), max_size=3), label="hostile")
        self.pool = list(dict.fromkeys([*(v for v in texts if v), *tricky, *numbers]))
        if not self.can("store"):
            return
        for _ in range(data.draw(st.integers(0, 6), label="rows to start with")):
            self.store(data)

    @precondition(lambda self: self.can("store"))
    @rule(data=st.data())
    def store(self, data: st.DataObject) -> None:
        row = self.draw_values(data)
        got = self.rt.store(FAMILY, row)
        assert got == 1, f"store({row!r}) returned {got!r}; it must return 1"
        self.model.store(row)
        self.remember(row)

    @precondition(lambda self: self.can("load"))
    @rule(data=st.data())
    def load(self, data: st.DataObject) -> None:
        check_load(self.rt, FAMILY, self.model, self.draw_conditions(data, "load"))

    @precondition(lambda self: self.can("load_multi"))
    @rule(data=st.data())
    def load_multi(self, data: st.DataObject) -> None:
        check_load_multi(self.rt, FAMILY, self.model, self.draw_conditions(data, "load_multi"))

    @precondition(lambda self: self.can("update"))
    @rule(data=st.data())
    def update(self, data: st.DataObject) -> None:
        (key,) = self.draw_conditions(data, "key", most=1)
        values = self.draw_values(data)
        field = key[0] if key[1] == "=" else f"{key[0]} {key[1]}"
        got = self.rt.update(FAMILY, field, key[2], values)
        want = self.model.update([key], values)
        assert got == want, (
            f"update({show([key])}, {values!r}) returned {got!r}; {want} row(s) match "
            "(update counts every matched row, changed or not)"
        )
        self.remember(values)
        self.last_update = (key, values)

    @precondition(lambda self: self.can("update") and self.last_update is not None)
    @rule()
    def update_again(self) -> None:
        """The same update twice: the second changes nothing and must count the same rows."""
        assert self.last_update is not None
        key, values = self.last_update
        field = key[0] if key[1] == "=" else f"{key[0]} {key[1]}"
        got = self.rt.update(FAMILY, field, key[2], values)
        want = self.model.update([key], values)
        assert got == want, (
            f"repeating update({show([key])}, {values!r}) returned {got!r}; {want} row(s) "
            "match (rows whose values do not change are counted too)"
        )

    @precondition(lambda self: self.can("update2"))
    @rule(data=st.data())
    def update2(self, data: st.DataObject) -> None:
        conds = self.draw_conditions(data, "lookup")
        values = self.draw_values(data)
        got = self.rt.update2(FAMILY, pairs(conds), values)
        want = self.model.update(conds, values)
        assert got == want, (
            f"update2({show(conds)}, {values!r}) returned {got!r}; {want} row(s) match"
        )
        self.remember(values)

    @precondition(lambda self: self.can("destroy"))
    @rule(data=st.data())
    def destroy(self, data: st.DataObject) -> None:
        conds = self.draw_conditions(data, "destroy", most=2)
        (key_field, key_value), *extra = pairs(conds)
        got = self.rt.destroy(FAMILY, key_field, key_value, *extra)
        want = self.model.destroy(conds)
        assert got == want, f"destroy({show(conds)}) returned {got!r}; {want} row(s) match"

    @precondition(lambda self: self.target.backdoor is not None)
    @rule()
    def storage_matches_model(self) -> None:
        stored = self.session.stored(FAMILY)
        if not self.model.same_rows(stored, self.model.rows):
            raise AssertionError(
                "the storage (read through the back door) differs from the model: "
                f"stored {_sample(stored)}, expected {_sample(self.model.rows)}"
            )


def _sample(rows: list[Any]) -> str:
    shown = ", ".join(repr(r) for r in rows[:4])
    more = f" and {len(rows) - 4} more" if len(rows) > 4 else ""
    return f"{len(rows)} row(s): [{shown}{more}]"
