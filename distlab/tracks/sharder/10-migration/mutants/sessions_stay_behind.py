"""Mutant: a shard moves with its key/values but without its session table: a request
applied by the old owner, whose reply was lost, is applied again at the new owner."""

from __future__ import annotations

import sys
from pathlib import Path

import distlab.systems.shardkv

if __name__ == "__main__":
    sys.argv.append("--mutant=no-sessions")
NODE = Path(distlab.systems.shardkv.__file__).with_name("node.py")
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node
