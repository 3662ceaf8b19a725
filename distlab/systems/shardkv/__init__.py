"""shardkv: 6.824's sharded key/value store (lab 4B, both challenges) on distlab's Raft.

`node.py` is every server of the cluster (the controller's and the replica groups'),
chosen by `--layout`; `lab.py` runs 6.824's shardkv tests as simulated scenarios.
"""

from pathlib import Path

NODE_PATH = str(Path(__file__).with_name("node.py"))

__all__ = ["NODE_PATH"]
