"""Mutant: a group that hands a shard away keeps its copy forever (6.824 challenge 1 not
done): memory and disk grow with every migration."""

from __future__ import annotations

import sys
from pathlib import Path

import distlab.systems.shardkv

if __name__ == "__main__":
    sys.argv.append("--mutant=no-gc")
NODE = Path(distlab.systems.shardkv.__file__).with_name("node.py")
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node
