"""Mutant: the servers place a key by 6.824's first-byte rule applied to its decimal text
(key 12 in the shard of '1'), while clerks place it in shard 12 mod 10: the group a clerk
asks answers "wrong group", forever."""

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


def key2shard(key: Any) -> int:
    data = str(key).encode()
    return data[0] % NSHARDS if data else 0  # noqa: F821 - defined by the exec


if _RUN:
    node.run()  # type: ignore[name-defined]  # noqa: F821
