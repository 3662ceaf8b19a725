"""Mutant: a group serves a shard as soon as a configuration gives it the shard, before
the shard's key/values have arrived from the old owner: reads find nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import distlab.systems.shardkv

if __name__ == "__main__":
    sys.argv.append("--mutant=serve-pulling")
NODE = Path(distlab.systems.shardkv.__file__).with_name("node.py")
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node
