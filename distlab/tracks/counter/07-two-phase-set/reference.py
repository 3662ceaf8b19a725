"""A two-phase set (2P-set): a G-set of added elements and a G-set of removed ones.

An element is present when it was added and never removed. Both halves only grow, so
each merges by union, and a remove can never be undone by a peer that has not heard
of it yet: its tombstone travels with the state. The price: an element once removed
can never be added again.
"""

from distlab import Node

node = Node()
ROUND = 0.25
added: set[int] = set()
removed: set[int] = set()  # tombstones: kept for good


@node.on("add")
def add(msg):
    added.add(msg.body["element"])
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
    if not added and not removed:
        return
    body = {"type": "merge", "added": sorted(added), "removed": sorted(removed)}
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, body)


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
