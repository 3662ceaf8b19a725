"""broadcast: gossip every message to every node (Gossip Glomers challenge 3).

Before the clients start, every node gets `topology{topology: {node: [neighbours]}}`
-> `topology_ok` (`--topology`). Clients then mix `broadcast{message}` (a fresh
integer) -> `broadcast_ok` with `read` -> `read_ok{messages: [...]}`; after them come
the final phase and a final read on every node. Checked as a set (set-full): every
acknowledged message must reach every node; stable latencies are reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from distlab.checkers import set_full
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.base import Op, Workload, param
from distlab.workloads.topology import topology

SET_ANOMALIES = ("lost", "stale", "duplicated", "unexpected", "final_missing", "final_read_failed")


@dataclass(frozen=True)
class BroadcastParams:
    topology: str = param("grid", "The neighbours each node is told about: grid, line, total, tree, tree2-4.")


class Broadcast(Workload):
    name = "broadcast"
    Params = BroadcastParams
    read_only = frozenset({"read"})
    final_phase = True
    add_f = "broadcast"

    def __init__(self, params: Any, rng: Any) -> None:
        super().__init__(params, rng)
        self.next_value = 0

    async def setup(self, call: Any, node_ids: list[str]) -> None:
        topo = topology(self.params.topology, node_ids)
        for node in node_ids:
            await call(node, {"type": "topology", "topology": topo})

    def next_op(self, process: int) -> Op:
        if self.rng.random() < 0.5:
            return Op("read", None)
        self.next_value += 1
        return Op(self.add_f, self.next_value - 1)

    def request(self, op: Op) -> dict[str, Any]:
        if op.f == "read":
            return {"type": "read"}
        return {"type": "broadcast", "message": op.value}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        if op.f == "read":
            return list(reply["messages"])
        return op.value

    def final_ops(self, node_ids: list[str]) -> list[tuple[str, Op]]:
        return [(node, Op("read", None)) for node in node_ids]

    def checker(self) -> Checker:
        return FunctionChecker(set_full.check, anomaly_keys=SET_ANOMALIES)

