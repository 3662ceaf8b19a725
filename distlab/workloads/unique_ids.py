"""unique-ids: `generate` -> `generate_ok{id}` (any JSON value): no id is handed out twice.

dense-ids: the same requests; the ids must also be 0, 1, 2, ... with no gaps (each request
that went unanswered excuses one), as a shared sequence hands them out."""

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



class DenseIds(UniqueIds):
    """unique-ids whose checker also wants every number from 0 up handed out."""

    name = "dense-ids"

    def checker(self) -> Checker:
        return FunctionChecker(unique_ids.check_dense, anomaly_keys=("duplicated", "gaps"))
