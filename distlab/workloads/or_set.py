"""or-set and 2p-set: a replicated set with removes.

`add{element}` -> `add_ok`, `remove{element}` -> `remove_ok`, `read` -> `read_ok{value: [...]}`;
after the clients, the final phase heals, waits, and reads every node.

Elements are integers. Most operations touch an element "homed" on the client's own
node (element % node_count == the node's index), so an add and a later remove of it
run on one node, in order: that is what lets the checker decide that a removed element
must be gone at the end. The rest touch any element, so adds and removes of one element
also race on different nodes (which an OR-set resolves by letting the add win). Adds
re-add removed elements often, which a set that remembers "removed" per element (a
2P-set) can never show again: the OR-set checker catches it, the 2P-set one requires it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from distlab.checkers import or_set
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.base import Op, Workload, param

HOME_P = 0.8  # an add or remove touches an element of its own node's
FRESH_P = 0.4  # an add picks a new element (else one seen before)


@dataclass(frozen=True)
class SetParams:
    node_count: int = param(3, "How many nodes (taken from the run).", option=False)


class ORSet(Workload):
    name = "or-set"
    Params = SetParams
    read_only = frozenset({"read"})
    final_phase = True
    two_phase = False

    def __init__(self, params: Any, rng: Any) -> None:
        super().__init__(params, rng)
        self.n = max(1, int(params.node_count))
        self.used: list[list[int]] = [[] for _ in range(self.n)]  # elements by home node
        self.next_round = 0

    def _fresh(self, home: int) -> int:
        value = self.next_round * self.n + home
        self.next_round += 1
        self.used[home].append(value)
        return value

    def _known(self, home: int) -> int | None:
        if self.rng.random() >= HOME_P:
            home = self.rng.randrange(self.n)
        pool = self.used[home]
        return self.rng.choice(pool) if pool else None

    def next_op(self, process: int) -> Op:
        home = process % self.n
        roll = self.rng.random()
        if roll < 0.4:
            return Op("read", None)
        if roll < 0.7 or not any(self.used):
            if self.rng.random() < FRESH_P:
                return Op("add", self._fresh(home))
            known = self._known(home)
            return Op("add", known if known is not None else self._fresh(home))
        known = self._known(home)
        return Op("remove", known) if known is not None else Op("add", self._fresh(home))

    def request(self, op: Op) -> dict[str, Any]:
        if op.f == "read":
            return {"type": "read"}
        return {"type": op.f, "element": op.value}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        if op.f == "read":
            return list(reply["value"])
        return op.value

    def final_ops(self, node_ids: list[str]) -> list[tuple[str, Op]]:
        return [(node, Op("read", None)) for node in node_ids]

    def checker(self) -> Checker:
        return FunctionChecker(or_set.check, {"node_count": self.n, "two_phase": self.two_phase},
                               anomaly_keys=or_set.ANOMALIES)


class TwoPhaseSet(ORSet):
    """The same operations, judged as a 2P-set: once removed, an element never returns."""

    name = "2p-set"
    two_phase = True
