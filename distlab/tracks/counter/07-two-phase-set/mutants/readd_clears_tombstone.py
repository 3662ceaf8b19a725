"""Mistake: an add takes the element off this node's tombstones so it can come back; but tombstones must only grow."""

from distlab import Node

node = Node()
added: set[int] = set()
removed: set[int] = set()


@node.on("add")
def add(msg):
    added.add(msg.body["element"])
    removed.discard(msg.body["element"])
    return {"type": "add_ok"}


@node.on("remove")
def remove(msg):
    removed.add(msg.body["element"])
    return {"type": "remove_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sorted(added - removed)}


@node.on("merge")
def merge(msg):
    added.update(msg.body["added"])
    removed.update(msg.body["removed"])


def gossip_round() -> None:
    body = {"type": "merge", "added": sorted(added), "removed": sorted(removed)}
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, body)


node.every(0.25, gossip_round)

if __name__ == "__main__":
    node.run()
