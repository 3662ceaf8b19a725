"""Mutant: a node that starts from its stored snapshot takes the key/values back but starts
with an empty duplicate table (InstallSnapshot from the leader restores both). After a
restart, a resent write whose first copy is inside the snapshot is applied again."""

from __future__ import annotations

from pathlib import Path

import distlab.systems.kvraft

NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
__name__ = "kvraft_node"  # load the node's definitions without starting it
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node


class ForgetsOnRestart(KVRaft):  # type: ignore[name-defined]  # noqa: F821 - defined by the exec
    """Loads the stored snapshot's data at start, and forgets its sessions."""

    def restore_loaded(self) -> None:
        super().restore_loaded()
        self.sessions = {}


KVRaft = ForgetsOnRestart
__name__ = "__main__"
node.run()  # type: ignore[name-defined]  # noqa: F821
