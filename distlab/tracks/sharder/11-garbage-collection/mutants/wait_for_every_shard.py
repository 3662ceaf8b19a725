"""Mutant: a group serves nothing while any shard of the new configuration is still on its
way (6.824 lab 4B without challenge 2): when the old owner is down, keys that never moved
become unavailable too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import distlab.systems.shardkv

_RUN = __name__ == "__main__"
_NAME = __name__
NODE = Path(distlab.systems.shardkv.__file__).with_name("node.py")
__name__ = "sharder_mutant"  # load the node's definitions without starting it
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node
__name__ = _NAME


class AllOrNothing(KVMachine):  # type: ignore[name-defined]  # noqa: F821 - defined by the exec
    def serving(self, shard: int) -> dict[str, Any] | None:
        err = super().serving(shard)
        if err is None and not self.stable():
            return _error(TEMPORARILY_UNAVAILABLE, "waiting for every shard of the configuration")  # type: ignore[name-defined]  # noqa: F821
        return err


KVMachine = AllOrNothing
if _RUN:
    node.run()  # type: ignore[name-defined]  # noqa: F821
