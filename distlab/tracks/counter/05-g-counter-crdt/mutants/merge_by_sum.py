"""Mistake: merges a received state by adding it, as if it were new increments.

A node only ever increments its own slot, so every slot only grows, and the
largest value seen for a slot is the newest. Merging whole states by max is
idempotent, so a state sent twice or out of order never counts an add twice.
No key-value service: nodes gossip their states every 200 ms.
"""

from distlab import Node

node = Node()
ROUND = 0.2
counts: dict[str, int] = {}  # node id -> that node's total of adds


@node.on("add")
def add(msg):
    counts[node.id] = counts.get(node.id, 0) + msg.body["delta"]
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sum(counts.values())}


@node.on("state")
def state(msg):
    for owner, value in msg.body["counts"].items():
        counts[owner] = counts.get(owner, 0) + value


def gossip_round() -> None:
    if counts:
        for peer in node.node_ids:
            if peer != node.id:
                node.send(peer, {"type": "state", "counts": counts})


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
