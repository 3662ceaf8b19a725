"""Mutant: the leader waits on the log index propose() returned and answers the client
when any entry applies there. A leader deposed before its entry committed sees that
index filled by the new leader's entry, and acknowledges a write that never happened."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import distlab.systems.kvraft

NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
__name__ = "kvraft_node"  # load the node's definitions without starting it
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node


class AnswersByIndex(KVRaft):  # type: ignore[name-defined]  # noqa: F821 - defined by the exec
    """Waiting requests are keyed by log index, not by (client, msg_id)."""

    async def attempt(self, cmd: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        if self.is_read(cmd):
            return await super().attempt(cmd, timeout)
        early = self.precheck(cmd)
        if early is not None:
            return early
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        index = self.core.propose(cmd)
        self.results.setdefault(("at", index), []).append(fut)
        self.pump()
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return None

    def apply(self, entry: Any) -> None:
        cmd = entry.command
        if cmd is None:
            return
        result = apply_once(self.sessions, cmd, self.execute)  # type: ignore[name-defined]  # noqa: F821
        self.answer(("at", entry.index), result or self.sessions[cmd["c"]][1])


KVRaft = AnswersByIndex
__name__ = "__main__"
node.run()  # type: ignore[name-defined]  # noqa: F821
