"""Mistake: a remove deletes the element from the set and keeps no tombstone; the next merge from a peer brings it back."""

from distlab import Node

node = Node()
elements: set[int] = set()


@node.on("add")
def add(msg):
    elements.add(msg.body["element"])
    return {"type": "add_ok"}


@node.on("remove")
def remove(msg):
    elements.discard(msg.body["element"])
    return {"type": "remove_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sorted(elements)}


@node.on("merge")
def merge(msg):
    elements.update(msg.body["value"])


def gossip_round() -> None:
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "merge", "value": sorted(elements)})


node.every(0.25, gossip_round)

if __name__ == "__main__":
    node.run()
