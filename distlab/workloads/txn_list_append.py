"""txn-list-append: transactions of reads and appends over a few keys (Elle's workload).

`txn{txn: [["r", k, null], ["append", k, v], ...]}` -> `txn_ok{txn}` with every
read filled in (null for a missing key). Appended values are unique per key,
which is what lets the checker infer each key's version order from the lists
it reads. Checked against `--consistency-models` (default strict-serializable).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from distlab.checkers import txn
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.base import Op, Workload, param

DEFAULT_KEYS = 10
CHECK_BUDGET = 30.0


@dataclass(frozen=True)
class TxnParams:
    consistency_models: tuple[str, ...] = param(("strict-serializable",),
                                                "The models the history is checked against.")
    max_txn_length: int = param(4, "At most this many micro-operations per transaction.")
    key_count: int = param(DEFAULT_KEYS, "How many keys transactions read and write at a time.")
    max_writes_per_key: int = param(16, "After this many writes a key is retired for a fresh one "
                                        "(Maelstrom's and Elle's key rotation).")


class TxnListAppend(Workload):
    name = "txn-list-append"
    Params = TxnParams
    checker_workload = "list-append"
    write_kind = "append"

    def __init__(self, params: TxnParams, rng: Any) -> None:
        super().__init__(params, rng)
        self.next_value: dict[int, int] = {}
        # Elle's generator: `key_count` keys in play; a key written `max_writes_per_key`
        # times is retired and the next unused key takes its slot, so lists (and the
        # checker's version orders) stay short however long the test runs.
        self.active = list(range(params.key_count))
        self.fresh_key = params.key_count

    def next_op(self, process: int) -> Op:
        micro = []
        params = self.params
        for _ in range(self.rng.randint(1, max(1, params.max_txn_length))):
            slot = self.rng.randrange(len(self.active))
            key = self.active[slot]
            if self.rng.random() < 0.5:
                micro.append(["r", key, None])
            else:
                value = self.next_value.get(key, 0) + 1
                self.next_value[key] = value
                micro.append([self.write_kind, key, value])
                if value >= params.max_writes_per_key:
                    self.active[slot] = self.fresh_key
                    self.fresh_key += 1
        return Op("txn", micro)

    def request(self, op: Op) -> dict[str, Any]:
        return {"type": "txn", "txn": [list(m) for m in op.value]}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        result = reply["txn"]
        if not isinstance(result, list) or len(result) != len(op.value):
            raise ValueError(f"txn_ok has {result!r} for a transaction of {len(op.value)} operations")
        return result

    def checker(self) -> Checker:
        return FunctionChecker(txn.check, {"workload": self.checker_workload,
                                           "consistency_models": list(self.params.consistency_models),
                                           "budget": CHECK_BUDGET}, anomaly_keys=("anomalies",))

