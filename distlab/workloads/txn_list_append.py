"""txn-list-append: transactions of reads and appends over a few keys (Elle's workload).

`txn{txn: [["r", k, null], ["append", k, v], ...]}` -> `txn_ok{txn}` with every
read filled in (null for a missing key). Appended values are unique per key,
which is what lets the checker infer each key's version order from the lists
it reads. Checked against `--consistency-models` (default strict-serializable).
"""

from __future__ import annotations

from typing import Any

from distlab.checkers import txn
from distlab.workloads.base import Op, Workload

DEFAULT_KEYS = 10
CHECK_BUDGET = 30.0


class TxnListAppend(Workload):
    name = "txn-list-append"
    checker_workload = "list-append"
    write_kind = "append"

    def __init__(self, opts: Any, rng: Any) -> None:
        super().__init__(opts, rng)
        self.next_value: dict[int, int] = {}

    def next_op(self, process: int) -> Op:
        micro = []
        for _ in range(self.rng.randint(1, max(1, self.opts.max_txn_length))):
            key = self.rng.randrange(self.opts.key_count or DEFAULT_KEYS)
            if self.rng.random() < 0.5:
                micro.append(["r", key, None])
            else:
                value = self.next_value.get(key, 0) + 1
                self.next_value[key] = value
                micro.append([self.write_kind, key, value])
        return Op("txn", micro)

    def request(self, op: Op) -> dict[str, Any]:
        return {"type": "txn", "txn": [list(m) for m in op.value]}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        result = reply["txn"]
        if not isinstance(result, list) or len(result) != len(op.value):
            raise ValueError(f"txn_ok has {result!r} for a transaction of {len(op.value)} operations")
        return result

    def check(self, history: list[dict[str, Any]]) -> dict[str, Any]:
        models = self.opts.consistency_models or ["strict-serializable"]
        return txn.check(history, self.checker_workload, models, budget=CHECK_BUDGET)


WORKLOAD = TxnListAppend
