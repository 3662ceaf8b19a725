"""Mistake: tombstones elements, not tags (a 2P-set): an element removed once can never be added again."""

from distlab import Node

node = Node()
added: set[int] = set()
removed: set[int] = set()


@node.on("add")
def add(msg):
    added.add(msg.body["element"])
    return {"type": "add_ok"}


@node.on("remove")
def remove(msg):
    if msg.body["element"] in added:
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
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "merge", "added": sorted(added), "removed": sorted(removed)})


node.every(0.25, gossip_round)

if __name__ == "__main__":
    node.run()
