"""Mutant: the leader answers reads from its own state at once, with no ReadIndex round
(followers forward reads to it). A leader frozen, cut off and thawed still believes it
leads for a moment, and answers with values the new leader has overwritten."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import distlab.systems.kvraft

NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
__name__ = "kvraft_node"  # load the node's definitions without starting it
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node


class Buggy(KVRaft):  # type: ignore[name-defined]  # noqa: F821 - defined by the exec
    """Believes being leader is enough to read locally."""

    async def attempt(self, cmd: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        if self.is_read(cmd):
            return self.read(cmd)
        return await super().attempt(cmd, timeout)


KVRaft = Buggy
__name__ = "__main__"
node.run()  # type: ignore[name-defined]  # noqa: F821
