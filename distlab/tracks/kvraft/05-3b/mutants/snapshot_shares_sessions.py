"""Mutant: the snapshot holds a copy of the key/values but the live duplicate table itself.
Raft keeps the snapshot to send to followers that lag behind; by the time it is sent, the
table has moved on with commands applied after it was taken, so a follower that installs
it believes those commands applied, though the snapshot's data lacks them, and skips them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import distlab.systems.kvraft

NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
__name__ = "kvraft_node"  # load the node's definitions without starting it
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node


class SharedSessions(KVRaft):  # type: ignore[name-defined]  # noqa: F821 - defined by the exec
    """Copies the data into the snapshot, not the session table."""

    def snapshot(self) -> dict[str, Any]:
        return {"kv": [[k, v] for k, v in self.kv.items()], "sessions": self.sessions}


KVRaft = SharedSessions
__name__ = "__main__"
node.run()  # type: ignore[name-defined]  # noqa: F821
