"""Mistake: each round sends only what changed since the last round, once: a delta that a partition drops is never sent again."""

from distlab import Node

node = Node()
tags: dict[int, set[str]] = {}
tombstones: set[str] = set()
new_tags: list[list] = []  # [element, tag] since the last round
new_tombstones: list[str] = []
counter = 0


@node.on("add")
def add(msg):
    global counter
    counter += 1
    tag = f"{node.id}:{counter}"
    tags.setdefault(msg.body["element"], set()).add(tag)
    new_tags.append([msg.body["element"], tag])
    return {"type": "add_ok"}


@node.on("remove")
def remove(msg):
    seen = tags.get(msg.body["element"], set()) - tombstones
    tombstones.update(seen)
    new_tombstones.extend(sorted(seen))
    return {"type": "remove_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sorted(e for e, ts in tags.items() if ts - tombstones)}


@node.on("delta")
def delta(msg):
    for element, tag in msg.body["tags"]:
        tags.setdefault(element, set()).add(tag)
    tombstones.update(msg.body["tombstones"])


def gossip_round() -> None:
    if not new_tags and not new_tombstones:
        return
    body = {"type": "delta", "tags": list(new_tags), "tombstones": list(new_tombstones)}
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, body)
    new_tags.clear()
    new_tombstones.clear()


node.every(0.25, gossip_round)

if __name__ == "__main__":
    node.run()
