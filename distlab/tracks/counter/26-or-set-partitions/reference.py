"""An observed-remove set (OR-set), a state-based CRDT with removes.

Every add makes a unique tag (this node's id and a counter) for its element; a
remove tombstones the tags of that element this node has seen, nothing else. An
element is present while it has a tag that is not tombstoned. Re-adding makes a new
tag, so it comes back; an add that a remove never saw survives it (add wins). Every
250 ms a node sends its tags and tombstones to every peer, who merges by union: two
grow-only sets, so order, loss and repeats never matter.
"""

from distlab import Node

node = Node()
ROUND = 0.25
tags: dict[int, set[str]] = {}  # element -> every tag seen for it
tombstones: set[str] = set()
counter = 0


def present() -> list[int]:
    return sorted(e for e, ts in tags.items() if ts - tombstones)


@node.on("add")
def add(msg):
    global counter
    counter += 1
    tags.setdefault(msg.body["element"], set()).add(f"{node.id}:{counter}")
    return {"type": "add_ok"}


@node.on("remove")
def remove(msg):
    tombstones.update(tags.get(msg.body["element"], ()))
    return {"type": "remove_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": present()}


@node.on("merge")
def merge(msg):
    for element, ts in msg.body["tags"]:
        tags.setdefault(element, set()).update(ts)
    tombstones.update(msg.body["tombstones"])


def gossip_round() -> None:
    if not tags:
        return
    body = {"type": "merge", "tags": [[e, sorted(ts)] for e, ts in tags.items()],
            "tombstones": sorted(tombstones)}
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, body)


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
