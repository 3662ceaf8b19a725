"""Mutant: only writes go through the duplicate table. A resent cas is applied again: if
the value went back to what it expects in between, it succeeds a second time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import distlab.systems.kvraft

NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
__name__ = "kvraft_node"  # load the node's definitions without starting it
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node


class WritesOnly(KVRaft):  # type: ignore[name-defined]  # noqa: F821 - defined by the exec
    """Sessions for writes only."""

    def apply(self, entry: Any) -> None:
        cmd = entry.command
        if cmd is None:
            return
        if cmd["op"] == "cas":
            self.answer((cmd["c"], cmd["id"]), self.execute(cmd))
            return
        super().apply(entry)

    def precheck(self, cmd: dict[str, Any]) -> dict[str, Any] | None:
        return None if cmd["op"] == "cas" else super().precheck(cmd)


KVRaft = WritesOnly
__name__ = "__main__"
node.run()  # type: ignore[name-defined]  # noqa: F821
