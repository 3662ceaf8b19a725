"""Mutant: each shard's key/values go into the group's snapshot, its session table does
not. A server that comes back from its snapshot (restarted, or sent one by its leader)
forgets which requests it applied, so a clerk's resend of a write whose reply was lost
is applied a second time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import distlab.systems.shardkv

_name = __name__
__name__ = "shardkv_node"  # load the node's definitions without starting it
NODE = Path(distlab.systems.shardkv.__file__).with_name("node.py")
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node


class DataOnlySnapshots(KVMachine):  # type: ignore[name-defined]  # noqa: F821 - defined by the exec
    """Snapshots every shard with an empty session table."""

    def snapshot(self) -> dict[str, Any]:
        data = super().snapshot()
        for shard in data["shards"]:  # [shard, state, key/values, sessions]
            shard[3] = {}
        return data


KVMachine = DataOnlySnapshots
__name__ = _name
if __name__ == "__main__":
    node.run()  # type: ignore[name-defined]  # noqa: F821
