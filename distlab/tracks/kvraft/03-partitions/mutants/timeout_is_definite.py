"""Mutant: a request that got no answer in time is reported as error 11 (it did not
happen), though a copy of it may be in a log already and commit later: a node that
hears nothing back answers 11 for a write the others applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import distlab.systems.kvraft
from distlab import RPCError

NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
__name__ = "kvraft_node"  # load the node's definitions without starting it
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node


class EveryTimeoutDefinite(KVRaft):  # type: ignore[name-defined]  # noqa: F821 - defined by the exec
    """Turns the honest "may still happen" (error 0) into "did not happen" (error 11)."""

    async def submit(self, cmd: dict[str, Any]) -> dict[str, Any]:
        try:
            return await super().submit(cmd)  # type: ignore[no-any-return]
        except RPCError as exc:
            if exc.code == 0:
                raise RPCError(11, "timed out") from None
            raise


KVRaft = EveryTimeoutDefinite
__name__ = "__main__"
node.run()  # type: ignore[name-defined]  # noqa: F821
