"""Mistake: sends the whole state to every peer every 250 ms, changed or not: correct, and about 4 messages per operation on five nodes."""

from distlab import Node

node = Node()
tags: dict[int, set[str]] = {}
tombstones: set[str] = set()
counter = 0


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
    return {"type": "read_ok", "value": sorted(e for e, ts in tags.items() if ts - tombstones)}


@node.on("merge")
def merge(msg):
    for element, ts in msg.body["tags"]:
        tags.setdefault(element, set()).update(ts)
    tombstones.update(msg.body["tombstones"])


def gossip_round() -> None:
    body = {"type": "merge", "tags": [[e, sorted(ts)] for e, ts in tags.items()], "tombstones": sorted(tombstones)}
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, body)


node.every(0.25, gossip_round)

if __name__ == "__main__":
    node.run()
