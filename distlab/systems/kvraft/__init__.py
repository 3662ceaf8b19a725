"""kvraft: the lin-kv service (read, write, cas) replicated with Raft.

`node.py` is an SDK node file: run it with
`distlab test -w lin-kv --bin distlab/systems/kvraft/node.py --node-count 5`.
"""

from pathlib import Path

NODE_PATH = str(Path(__file__).with_name("node.py"))

__all__ = ["NODE_PATH"]
