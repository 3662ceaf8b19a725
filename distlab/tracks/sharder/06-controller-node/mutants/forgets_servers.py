"""Mutant: a join records the new groups' gids but not their servers (the configuration
says group 1 exists, and nobody can find it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import distlab.systems.shardctrler

_RUN = __name__ == "__main__"
_NAME = __name__
NODE = Path(distlab.systems.shardctrler.__file__).with_name("node.py")
__name__ = "sharder_mutant"  # load the node's definitions without starting it
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node
__name__ = _NAME


class NoServers(Controller):  # type: ignore[name-defined]  # noqa: F821 - defined by the exec
    def apply(self, cmd: dict[str, Any]) -> dict[str, Any]:
        if cmd["op"] == "join":
            cmd = {**cmd, "groups": {g: [] for g in cmd["groups"]}}
        return super().apply(cmd)


Controller = NoServers
if _RUN:
    node.run()  # type: ignore[name-defined]  # noqa: F821
