"""g-set: a grow-only set: `add{element}` -> `add_ok`, `read` -> `read_ok{value: [...]}`; set-full.

Unlike Maelstrom's generator (issue #95: it adds 0, 1, 2, ... and never the same
element twice), one add in four adds an element that was added before, so a set
that stores an element twice, or loses it when it comes again, is caught: its
reads show the element twice (duplicated) or stop showing it (lost).
"""

from __future__ import annotations

from typing import Any

from distlab.workloads.base import NoParams, Op
from distlab.workloads.broadcast import Broadcast

REPEAT_P = 0.25
"""How often an add repeats an element added before (any earlier one, uniformly)."""


class GSet(Broadcast):
    name = "g-set"
    Params = NoParams  # no topology: a g-set node chooses its own peers
    add_f = "add"

    async def setup(self, call: Any, node_ids: list[str]) -> None:
        return None

    def next_op(self, process: int) -> Op:
        if self.rng.random() < 0.5:
            return Op("read", None)
        if self.next_value and self.rng.random() < REPEAT_P:
            return Op(self.add_f, self.rng.randrange(self.next_value))
        self.next_value += 1
        return Op(self.add_f, self.next_value - 1)

    def request(self, op: Op) -> dict[str, Any]:
        if op.f == "read":
            return {"type": "read"}
        return {"type": "add", "element": op.value}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        if op.f == "read":
            return list(reply["value"])
        return op.value

