"""Mutant: reads are answered from the node's own copy at once, without asking the
leader or a quorum. A node cut off from the majority keeps serving old values."""

from __future__ import annotations

import sys
from pathlib import Path

import distlab.systems.kvraft

sys.argv.append("--stale-reads")  # this node's own argv (each simulated node has its own)
NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node, as __main__
