"""Mutant: the snapshot holds the key/value data but not the duplicate table. A node that
starts from a snapshot (its own after a restart, or a leader's by InstallSnapshot) forgets
which requests it already applied, so a retried or duplicated copy of a request whose
first copy is inside the snapshot is applied a second time, on that node only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import distlab.systems.kvraft

NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
__name__ = "kvraft_node"  # load the node's definitions without starting it
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node


class DataOnlySnapshots(KVRaft):  # type: ignore[name-defined]  # noqa: F821 - defined by the exec
    """Snapshots the key/values only; restoring one starts with no sessions."""

    def snapshot(self) -> dict[str, Any]:
        return {"kv": [[k, v] for k, v in self.kv.items()]}

    def restore(self, data: dict[str, Any] | None) -> None:
        self.kv = {k: v for k, v in (data or {}).get("kv", [])}
        self.sessions = {}


KVRaft = DataOnlySnapshots
__name__ = "__main__"
node.run()  # type: ignore[name-defined]  # noqa: F821
