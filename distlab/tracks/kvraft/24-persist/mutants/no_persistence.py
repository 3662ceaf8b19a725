"""Mutant: the node never writes Raft's state to disk: a killed node comes back empty,
and a majority killed at once forgets acknowledged writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import distlab.systems.kvraft

NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
__name__ = "kvraft_node"  # load the node's definitions without starting it
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node


class ForgetfulDisk(KVRaft):  # type: ignore[name-defined]  # noqa: F821 - defined by the exec
    """Skips the writes and the sync that should happen before any message leaves."""

    def persist(self, rd: Any) -> None:
        pass


KVRaft = ForgetfulDisk
__name__ = "__main__"
node.run()  # type: ignore[name-defined]  # noqa: F821
