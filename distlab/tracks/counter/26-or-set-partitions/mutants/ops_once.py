"""Mistake: an operation-based OR-set that sends each add and remove to every peer once: a partition drops them for good."""

from distlab import Node

node = Node()
tags: dict[int, set[str]] = {}
tombstones: set[str] = set()
counter = 0


def broadcast(body: dict) -> None:
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, body)


@node.on("add")
def add(msg):
    global counter
    counter += 1
    tag = f"{node.id}:{counter}"
    tags.setdefault(msg.body["element"], set()).add(tag)
    broadcast({"type": "op_add", "element": msg.body["element"], "tag": tag})
    return {"type": "add_ok"}


@node.on("remove")
def remove(msg):
    seen = sorted(tags.get(msg.body["element"], ()))
    tombstones.update(seen)
    broadcast({"type": "op_remove", "tags": seen})
    return {"type": "remove_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sorted(e for e, ts in tags.items() if ts - tombstones)}


@node.on("op_add")
def op_add(msg):
    tags.setdefault(msg.body["element"], set()).add(msg.body["tag"])


@node.on("op_remove")
def op_remove(msg):
    tombstones.update(msg.body["tags"])


if __name__ == "__main__":
    node.run()
