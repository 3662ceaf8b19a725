"""lin-kv: read / write / cas on registers; each key must be linearizable.

As Maelstrom does, clients work in groups of 2 x node-count, each group on one
key at a time, moving to a fresh key after PER_KEY_LIMIT operations (so each
key's history stays small enough to check quickly, and a run covers many
keys). With `--key-count K` every operation picks one of K keys instead.

Histories use Jepsen's `independent` shape ([key, value]) and are checked per
key with the keyed compare-and-set register model: a read of a missing key is
error 20, a cas whose `from` does not match is error 22 (both definite).
"""

from __future__ import annotations

from typing import Any

from distlab.checkers.linearizable import check
from distlab.workloads.base import Op, Workload

PER_KEY_LIMIT = 100
CHECK_BUDGET = 60.0


class LinKV(Workload):
    name = "lin-kv"
    read_only = frozenset({"read"})

    def __init__(self, opts: Any, rng: Any) -> None:
        super().__init__(opts, rng)
        self.group_key: dict[int, int] = {}
        self.group_ops: dict[int, int] = {}
        self.next_key = 0

    def _key(self, process: int) -> int:
        if self.opts.key_count:
            return self.rng.randrange(self.opts.key_count)
        group = (process % self.opts.worker_count()) // (2 * self.opts.node_count)
        key = self.group_key.get(group)
        if key is None or self.group_ops[group] >= PER_KEY_LIMIT:
            key = self.group_key[group] = self.next_key
            self.next_key += 1
            self.group_ops[group] = 0
        self.group_ops[group] += 1
        return key

    def next_op(self, process: int) -> Op:
        key = self._key(process)
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
