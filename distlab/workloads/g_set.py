"""g-set: a grow-only set: `add{element}` and `read` -> `{value: [...]}`, checked as set-full."""

from __future__ import annotations

from typing import Any

from distlab.workloads.base import Op
from distlab.workloads.broadcast import Broadcast


class GSet(Broadcast):
    name = "g-set"
    add_f = "add"

    async def setup(self, call: Any, node_ids: list[str]) -> None:
        return None  # no topology: a g-set node chooses its own peers

    def request(self, op: Op) -> dict[str, Any]:
        if op.f == "read":
            return {"type": "read"}
        return {"type": "add", "element": op.value}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        if op.f == "read":
            return list(reply["value"])
        return op.value


WORKLOAD = GSet
