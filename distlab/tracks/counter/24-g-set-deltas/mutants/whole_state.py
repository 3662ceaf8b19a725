"""Mistake: sends the whole set to every peer every 250 ms, changed or not.

Fresh and correct, but most of those messages carry nothing new: about 8
messages per operation on five nodes.
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
