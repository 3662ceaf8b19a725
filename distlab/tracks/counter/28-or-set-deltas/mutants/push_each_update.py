"""Mistake: pushes each add's tag and each remove's tombstones to every peer at once, plus the whole state as a periodic repair: fresh, but over two messages per operation on five nodes."""

from distlab import Node

node = Node()
tags: dict[int, set[str]] = {}
tombstones: set[str] = set()
counter = 0


def send_all(t: dict[int, set[str]], tombs: set[str]) -> None:
    body = {"type": "merge", "tags": [[e, sorted(ts)] for e, ts in t.items()], "tombstones": sorted(tombs)}
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, body)


@node.on("add")
def add(msg):
    global counter
    counter += 1
    tag = f"{node.id}:{counter}"
    tags.setdefault(msg.body["element"], set()).add(tag)
    send_all({msg.body["element"]: {tag}}, set())
    return {"type": "add_ok"}


@node.on("remove")
def remove(msg):
    seen = tags.get(msg.body["element"], set()) - tombstones
    tombstones.update(seen)
    send_all({}, seen)
    return {"type": "remove_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sorted(e for e, ts in tags.items() if ts - tombstones)}


@node.on("merge")
def merge(msg):
    for element, ts in msg.body["tags"]:
        tags.setdefault(element, set()).update(ts)
    tombstones.update(msg.body["tombstones"])


def repair() -> None:
    if tags:
        peers = [p for p in node.node_ids if p != node.id]
        node.send(node.random.choice(peers), {"type": "merge", "tags": [[e, sorted(ts)] for e, ts in tags.items()],
                                              "tombstones": sorted(tombstones)})


node.every(5.0, repair)

if __name__ == "__main__":
    node.run()
