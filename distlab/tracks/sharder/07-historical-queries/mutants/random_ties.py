"""Mutant: rebalancing breaks ties at random (as iterating a Go map does): each replica
computes its own configurations, and they differ."""

from __future__ import annotations

import sys
from pathlib import Path

import distlab.systems.shardctrler

if __name__ == "__main__":
    sys.argv.append("--mutant=random-ties")
NODE = Path(distlab.systems.shardctrler.__file__).with_name("node.py")
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node
