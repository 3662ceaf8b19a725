"""vector-clock: `event{seen}` -> `event_ok{vc}`, a vector clock for each event.

As in the `lamport` workload, clients carry time between nodes: each client keeps
the entry-wise max of the vector clocks it was given (and sometimes hears of
another client's) and sends it as `seen`; nodes never need to talk to each other.
Each event records its own id, the node that served it (the runner binds a client
to one node), `seen`, and `after`: the ids of the events whose clocks were merged
into `seen`. So the history holds the exact happened-before order, and the checker
can judge both directions of the vector clock's promise: a happened before b if
and only if vc(a) < vc(b).

vector-clock-compare adds `compare{a, b}` -> `compare_ok{order}` on pairs of clocks
the nodes returned: "before", "after", "equal" or "concurrent".
"""

from __future__ import annotations

from typing import Any

from distlab.checkers import vector_clock
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.base import Op, Workload

HEAR = 0.5
"""How often a client first adopts another client's knowledge."""
FRESH = 0.05
"""How often a client starts afresh, knowing nothing (a new session): without these,
clients carrying everything they know would hide a node that forgot its own past."""
COMPARE = 0.4
"""In vector-clock-compare, the share of operations that compare two clocks."""
RECENT = 40
"""Compared clocks come from this many recent events (recent ones are more often concurrent)."""


def merge(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    out = dict(a)
    for k, v in b.items():
        if v > out.get(k, 0):
            out[k] = v
    return out


class VectorClock(Workload):
    name = "vector-clock"
    compare_share = 0.0

    def __init__(self, params: Any, rng: Any) -> None:
        super().__init__(params, rng)
        self.node_ids: list[str] = []
        self.known: dict[int, tuple[dict[str, int], list[int]]] = {}  # process -> (vc, frontier ids)
        self.next_id = 0
        self.owner: dict[int, int] = {}  # id(op) -> its process, until its reply
        self.recent: list[dict[str, int]] = []  # well-formed clocks of recent events

    async def setup(self, call: Any, node_ids: list[str]) -> None:
        self.node_ids = list(node_ids)

    def next_op(self, process: int) -> Op:
        if len(self.recent) >= 2 and self.rng.random() < self.compare_share:
            a = self.rng.choice(self.recent)
            pick = self.rng.random()
            b = a if pick < 0.1 else merge(a, self.rng.choice(self.recent)) if pick < 0.3 else self.rng.choice(self.recent)
            if self.rng.random() < 0.5:
                a, b = b, a
            return Op("compare", {"a": dict(a), "b": dict(b)})
        if self.rng.random() < FRESH:
            self.known.pop(process, None)
        vc, frontier = self.known.get(process, ({}, []))
        if self.known and self.rng.random() < HEAR:
            other_vc, other_frontier = self.rng.choice(list(self.known.values()))
            vc, frontier = merge(vc, other_vc), sorted(set(frontier) | set(other_frontier))
            self.known[process] = (vc, frontier)
        self.next_id += 1
        node = self.node_ids[process % len(self.node_ids)] if self.node_ids else None
        op = Op("event", {"id": self.next_id, "node": node, "seen": dict(vc), "after": list(frontier)})
        self.owner[id(op)] = process
        return op

    def request(self, op: Op) -> dict[str, Any]:
        if op.f == "compare":
            return {"type": "compare", "a": dict(op.value["a"]), "b": dict(op.value["b"])}
        return {"type": "event", "seen": dict(op.value["seen"])}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        if op.f == "compare":
            return {**op.value, "order": reply.get("order")}
        vc = reply.get("vc")
        process = self.owner.pop(id(op), None)
        if process is not None:
            # everything this event causally follows is in its own past: its id alone stands for it
            known = op.value["seen"]
            if vector_clock.well_formed(vc):
                known = merge(known, vc)
                self.recent = (self.recent + [dict(vc)])[-RECENT:]
            self.known[process] = (known, [op.value["id"]])
        return {**op.value, "vc": vc}

    def checker(self) -> Checker:
        return FunctionChecker(vector_clock.check, anomaly_keys=vector_clock.ANOMALIES)


class VectorClockCompare(VectorClock):
    name = "vector-clock-compare"
    compare_share = COMPARE
