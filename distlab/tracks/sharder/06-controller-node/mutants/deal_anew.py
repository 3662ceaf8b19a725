"""Mutant: the controller rebalances by dealing every shard anew round-robin (balanced and
deterministic, but a join or leave moves far more shards than it must)."""

from __future__ import annotations

import sys
from pathlib import Path

import distlab.systems.shardctrler

if __name__ == "__main__":
    sys.argv.append("--mutant=rebuild")
NODE = Path(distlab.systems.shardctrler.__file__).with_name("node.py")
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node
