"""unique-ids: `generate` -> `generate_ok{id}` (any JSON value): no id is handed out twice."""

from __future__ import annotations

from typing import Any

from distlab.checkers import unique_ids
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.base import Op, Workload


class UniqueIds(Workload):
    name = "unique-ids"

    def next_op(self, process: int) -> Op:
        return Op("generate", None)

    def request(self, op: Op) -> dict[str, Any]:
        return {"type": "generate"}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        return reply.get("id")

    def checker(self) -> Checker:
        return FunctionChecker(unique_ids.check, anomaly_keys=("duplicated",))

