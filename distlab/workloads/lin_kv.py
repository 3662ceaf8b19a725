"""lin-kv: `read{key}` -> `read_ok{value}`, `write{key, value}` -> `write_ok`,
`cas{key, from, to}` -> `cas_ok`; each key must be linearizable.

As Maelstrom does, clients work in groups of 2 x node-count, each group on one
key at a time, moving to a fresh key after PER_KEY_LIMIT operations (so each
key's history stays small enough to check quickly, and a run covers many
keys). With `--key-count K` every operation picks one of K keys instead.

Histories use Jepsen's `independent` shape ([key, value]) and are checked per
key with the keyed compare-and-set register model: a read of a missing key is
error 20, a cas whose `from` does not match is error 22 (both definite).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from distlab.checkers.api import Checker
from distlab.checkers.linearizable import Linearizable
from distlab.workloads.base import Op, Workload, param

if TYPE_CHECKING:
    from distlab.options import TestOptions

PER_KEY_LIMIT = 100
CHECK_BUDGET = 60.0


@dataclass(frozen=True)
class LinKVParams:
    key_count: int | None = param(None, "Each operation picks one of this many keys "
                                        "(default: groups of clients move to a fresh key every 100 ops).")
    node_count: int = param(5, "Nodes in the cluster (a client group is 2 per node).", option=False)
    workers: int = param(5, "Client workers (--concurrency).", option=False)


class LinKV(Workload):
    name = "lin-kv"
    Params = LinKVParams
    read_only = frozenset({"read"})

    @classmethod
    def params_from(cls, opts: TestOptions) -> LinKVParams:
        return LinKVParams(opts.key_count, opts.node_count, opts.worker_count())

    def __init__(self, params: LinKVParams, rng: Any) -> None:
        super().__init__(params, rng)
        self.group_key: dict[int, int] = {}
        self.group_ops: dict[int, int] = {}
        self.next_key = 0

    def _key(self, process: int) -> int:
        params = self.params
        if params.key_count:
            return self.rng.randrange(params.key_count)
        group = (process % params.workers) // (2 * params.node_count)
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

    def checker(self) -> Checker:
        return Linearizable("keyed-cas-register", budget=CHECK_BUDGET)

