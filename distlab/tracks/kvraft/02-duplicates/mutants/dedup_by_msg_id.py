"""Mutant: the duplicate table is keyed by the request's msg_id alone, not by (client,
msg_id): two clients' requests with the same msg_id look like one, and the second is
answered with the first's reply without being applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import distlab.systems.kvraft

NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
__name__ = "kvraft_node"  # load the node's definitions without starting it
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node


class Buggy(KVRaft):  # type: ignore[name-defined]  # noqa: F821 - defined by the exec
    """Sessions keyed by msg_id: a request is a duplicate if any client sent that id."""

    def apply(self, entry: Any) -> None:
        cmd = entry.command
        if cmd is None:
            return
        key = (cmd["c"], cmd["id"])
        result = apply_once(self.sessions, {**cmd, "c": "*"}, self.execute)  # noqa: F821
        self.answer(key, result)

    def precheck(self, cmd: dict[str, Any]) -> dict[str, Any] | None:
        return last_reply(self.sessions, {**cmd, "c": "*"})  # noqa: F821


KVRaft = Buggy
__name__ = "__main__"
node.run()  # type: ignore[name-defined]  # noqa: F821
