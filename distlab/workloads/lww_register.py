"""lww-register: one last-writer-wins register replicated on every node.

`write{value}` -> `write_ok`, `read` -> `read_ok{value}` (null before any write);
after the clients, the final phase heals, waits, and reads every node. Every write
carries a fresh integer, so a read names the write it saw, and the checker can tell
which writes a node had seen before it stamped a new one.
"""

from __future__ import annotations

from typing import Any

from distlab.checkers import lww_register
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.base import Op, Workload
from distlab.workloads.or_set import SetParams


class LWWRegister(Workload):
    name = "lww-register"
    Params = SetParams  # the node count only: the checker needs where each client ran
    read_only = frozenset({"read"})
    final_phase = True

    def __init__(self, params: Any, rng: Any) -> None:
        super().__init__(params, rng)
        self.next_value = 0

    def next_op(self, process: int) -> Op:
        if self.rng.random() < 0.5:
            return Op("read", None)
        self.next_value += 1
        return Op("write", self.next_value)

    def request(self, op: Op) -> dict[str, Any]:
        if op.f == "read":
            return {"type": "read"}
        return {"type": "write", "value": op.value}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        if op.f == "read":
            return reply["value"]
        return op.value

    def final_ops(self, node_ids: list[str]) -> list[tuple[str, Op]]:
        return [(node, Op("read", None)) for node in node_ids]

    def checker(self) -> Checker:
        return FunctionChecker(lww_register.check, {"node_count": max(1, int(self.params.node_count))},
                               anomaly_keys=lww_register.ANOMALIES)
