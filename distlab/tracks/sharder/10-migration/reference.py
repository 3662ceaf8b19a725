"""The reference: distlab's own sharded KV (distlab/systems/shardkv/node.py), run as this
file. Read that file for the solution; this one only executes it here, so that each
simulated node gets its own copy of its state."""

from __future__ import annotations

from pathlib import Path

import distlab.systems.shardkv

NODE = Path(distlab.systems.shardkv.__file__).with_name("node.py")
exec(compile(NODE.read_text(), str(NODE), "exec"))  # noqa: S102 - our own node, as __main__
