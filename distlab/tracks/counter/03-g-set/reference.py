"""A grow-only set (G-set), the simplest state-based CRDT.

Each node keeps a set and, every 250 ms, sends the whole set to every peer; a
receiver merges by union. Union is commutative, associative and idempotent, so
order, loss, duplication and repeats of the same element never matter.
"""

from distlab import Node

node = Node()
ROUND = 0.25
elements: set[int] = set()


@node.on("add")
def add(msg):
    elements.add(msg.body["element"])
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sorted(elements)}


@node.on("merge")
def merge(msg):
    elements.update(msg.body["value"])


def gossip_round() -> None:
    if not elements:
        return
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "merge", "value": sorted(elements)})


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
