"""lamport: `stamp{seen?}` -> `stamp_ok{ts}`, a logical timestamp for each request.

Clients carry time between nodes: each client remembers the largest timestamp it
was given and sends it as `seen`, and before an operation a client sometimes hears
of another client's largest one (as people pass on what they read), and now and
then starts afresh. So a request causally follows every stamp its `seen` came
from, on whichever node that was, and a node's reply must be greater. Each client talks to one node, so the node serving
an operation is known from its client and recorded with it (`node`), which lets the
checker hold each node's stamps to the order its events happened in.
"""

from __future__ import annotations

from typing import Any

from distlab.checkers import lamport
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.base import Op, Workload

HEAR = 0.5
"""How often a client first adopts another client's largest timestamp."""
FRESH = 0.05
"""How often a client starts afresh, knowing nothing (a new session): without these,
clients carrying everything they know would hide a node that forgot its own past."""


class Lamport(Workload):
    name = "lamport"

    def __init__(self, params: Any, rng: Any) -> None:
        super().__init__(params, rng)
        self.node_ids: list[str] = []
        self.known: dict[int, Any] = {}  # process -> the largest timestamp it has seen
        self.owner: dict[int, int] = {}  # id(op) -> its process, until its reply

    async def setup(self, call: Any, node_ids: list[str]) -> None:
        self.node_ids = list(node_ids)

    def node_of(self, process: int) -> str | None:
        """The node a client process talks to: the runner binds worker w to node w mod n
        (and a worker that moves on after an indeterminate reply keeps that rule)."""
        return self.node_ids[process % len(self.node_ids)] if self.node_ids else None

    @staticmethod
    def well_formed(ts: Any) -> bool:
        return type(ts) is int

    def next_op(self, process: int) -> Op:
        if self.rng.random() < FRESH:
            self.known.pop(process, None)
        known = self.known.get(process)
        if self.known and self.rng.random() < HEAR:
            heard = self.rng.choice(list(self.known.values()))
            known = heard if known is None else max(known, heard)
            self.known[process] = known
        op = Op("stamp", {"node": self.node_of(process), "seen": known})
        self.owner[id(op)] = process
        return op

    def request(self, op: Op) -> dict[str, Any]:
        seen = op.value["seen"]
        if seen is None:
            return {"type": "stamp"}
        return {"type": "stamp", "seen": list(seen) if isinstance(seen, list) else seen}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        ts = reply.get("ts")
        process = self.owner.pop(id(op), None)
        if process is not None and self.well_formed(ts):
            known = self.known.get(process)
            self.known[process] = ts if known is None else max(known, ts)
        return {**op.value, "ts": ts}

    def checker(self) -> Checker:
        return FunctionChecker(lamport.check, anomaly_keys=lamport.ANOMALIES)
