"""Mutant: every committed command is executed, even a second copy of one already
applied (a retried or duplicated request). Without the session table, a write that
arrives twice can overwrite a later write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import distlab.systems.kvraft

NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
__name__ = "kvraft_node"  # load the node's definitions without starting it
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node


class ForgetfulKV(KVRaft):  # type: ignore[name-defined]  # noqa: F821 - defined by the exec
    """Applies without looking up the client's last request."""

    def apply(self, entry: Any) -> None:
        cmd = entry.command
        if cmd is None:
            return
        result = self.execute(cmd)
        for fut in self.results.pop((cmd["c"], cmd["id"]), []):
            if not fut.done():
                fut.set_result(result)


KVRaft = ForgetfulKV
__name__ = "__main__"
node.run()  # type: ignore[name-defined]  # noqa: F821
