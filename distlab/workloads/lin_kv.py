"""lin-kv: read / write / cas on a few keys; each key must be linearizable.

Histories use Jepsen's `independent` shape ([key, value]) and are checked per
key with the keyed compare-and-set register model: a read of a missing key is
error 20, a cas whose `from` does not match is error 22 (both definite).
"""

from __future__ import annotations

from typing import Any

from distlab.checkers.linearizable import check
from distlab.workloads.base import Op, Workload

DEFAULT_KEYS = 3
CHECK_BUDGET = 60.0


class LinKV(Workload):
    name = "lin-kv"
    read_only = frozenset({"read"})

    def next_op(self, process: int) -> Op:
        key = self.rng.randrange(self.opts.key_count or DEFAULT_KEYS)
        roll = self.rng.random()
        if roll < 1 / 3:
            return Op("read", [key, None])
        if roll < 2 / 3:
            return Op("write", [key, self.rng.randrange(5)])
        return Op("cas", [key, [self.rng.randrange(5), self.rng.randrange(5)]])

    def request(self, op: Op) -> dict[str, Any]:
        key, arg = op.value
        if op.f == "read":
            return {"type": "read", "key": key}
        if op.f == "write":
            return {"type": "write", "key": key, "value": arg}
        return {"type": "cas", "key": key, "from": arg[0], "to": arg[1]}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        if op.f == "read":
            return [op.value[0], reply["value"]]
        return op.value

    def check(self, history: list[dict[str, Any]]) -> dict[str, Any]:
        result = check(history, "keyed-cas-register", budget=CHECK_BUDGET)
        out: dict[str, Any] = {
            "valid": result.valid,
            "ops": result.ops,
            "keys": result.partitions,
            "check_seconds": round(result.elapsed, 4),
        }
        if result.valid is not True:
            out["explanation"] = result.explain()
        return out


WORKLOAD = LinKV
