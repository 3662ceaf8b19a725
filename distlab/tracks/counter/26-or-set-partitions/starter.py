"""OR-set under partitions: start from your counter/or-set node, fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
tags: dict[int, set[str]] = {}  # element -> the unique tags of its adds
tombstones: set[str] = set()
counter = 0


@node.on("add")
def add(msg):
    global counter
    counter += 1
    # TODO: record a unique tag for msg.body["element"]
    return {"type": "add_ok"}


@node.on("remove")
def remove(msg):
    # TODO: tombstone the tags of this element seen so far
    return {"type": "remove_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sorted(e for e, ts in tags.items() if ts - tombstones)}


def gossip_round() -> None:
    pass  # TODO: send tags and tombstones to every peer


# TODO: handle the message your peers send, merging tags and tombstones by union

node.every(0.25, gossip_round)

if __name__ == "__main__":
    node.run()
