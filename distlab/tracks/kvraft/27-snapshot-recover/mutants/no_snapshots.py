"""Mutant: the service never takes a snapshot, so Raft's log is never trimmed: stored
state grows with every write, and a restart replays the whole log."""

from __future__ import annotations

import sys
from pathlib import Path

import distlab.systems.kvraft

sys.argv.append("--snapshot-every=1000000000")  # this node's own argv: effectively never
NODE = Path(distlab.systems.kvraft.__file__).with_name("node.py")
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node, as __main__
