"""2P-set: fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
added: set[int] = set()
removed: set[int] = set()  # tombstones


@node.on("add")
def add(msg):
    added.add(msg.body["element"])
    return {"type": "add_ok"}


@node.on("remove")
def remove(msg):
    # TODO: record the tombstone
    return {"type": "remove_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sorted(added)}  # TODO: leave out removed elements


def gossip_round() -> None:
    pass  # TODO: send both sets to every peer (node.node_ids, node.send)


# TODO: handle the message your peers send, merging both sets

node.every(0.25, gossip_round)

if __name__ == "__main__":
    node.run()
