"""Mutant: the leader answers a write as soon as it has proposed it, before a majority
stores it; a leader about to lose its office acknowledges writes that never commit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import distlab.systems.kvraft

NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
__name__ = "kvraft_node"  # load the node's definitions without starting it
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node


class EagerAcks(KVRaft):  # type: ignore[name-defined]  # noqa: F821 - defined by the exec
    """Replies write_ok once the write is in its own log (cas and reads still wait)."""

    async def attempt(self, cmd: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        if cmd["op"] != "write":
            return await super().attempt(cmd, timeout)
        self.core.propose(cmd)
        self.pump()
        return {"type": "write_ok"}


KVRaft = EagerAcks
__name__ = "__main__"
node.run()  # type: ignore[name-defined]  # noqa: F821
