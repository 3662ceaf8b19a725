"""shardctrler: 6.824's shard controller (lab 4A) on distlab's Raft.

`rebalance.py` is the state machine (configurations; rebalancing that moves the fewest
shards), `node.py` the node serving join, leave, move and query on Raft (run it with
the scenarios of `lab.py`: `Lab().run("4a_move")`), `checker.py` the history checker.
"""

from pathlib import Path

NODE_PATH = str(Path(__file__).with_name("node.py"))

__all__ = ["NODE_PATH"]
