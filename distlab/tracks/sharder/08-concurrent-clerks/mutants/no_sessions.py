"""Mutant: no duplicate detection: a join, leave or move that a clerk resends (its reply
was lost) is applied again and makes another configuration."""

from __future__ import annotations

import sys
from pathlib import Path

import distlab.systems.shardctrler

if __name__ == "__main__":
    sys.argv.append("--mutant=no-sessions")
NODE = Path(distlab.systems.shardctrler.__file__).with_name("node.py")
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node
