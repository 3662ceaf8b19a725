"""g-counter: `add{delta}` (delta >= 0) -> `add_ok`, `read` -> `read_ok{value}` (Gossip Glomers 4).

Final reads (after healing and 10 s to converge) must lie in the range Maelstrom
allows: the sum of acknowledged adds plus any of the indeterminate ones.
"""

from __future__ import annotations

from typing import Any

from distlab.checkers import counters
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.base import Op, Workload


class GCounter(Workload):
    name = "g-counter"
    read_only = frozenset({"read"})
    final_phase = True
    negative = False

    def next_op(self, process: int) -> Op:
        if self.rng.random() < 0.5:
            return Op("read", None)
        delta = self.rng.randint(-5, 5) if self.negative else self.rng.randint(0, 5)
        return Op("add", delta)

    def request(self, op: Op) -> dict[str, Any]:
        if op.f == "read":
            return {"type": "read"}
        return {"type": "add", "delta": op.value}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        if op.f == "read":
            value = reply["value"]
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"read returned {value!r}, not an integer")
            return value
        return op.value

    def final_ops(self, node_ids: list[str]) -> list[tuple[str, Op]]:
        return [(node, Op("read", None)) for node in node_ids]

    def checker(self) -> Checker:
        return FunctionChecker(counters.check, {"grow_only": not self.negative}, anomaly_keys=("errors",))

