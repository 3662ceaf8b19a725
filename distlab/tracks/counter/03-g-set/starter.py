"""G-set: fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
elements: set[int] = set()


@node.on("add")
def add(msg):
    # TODO: remember msg.body["element"]
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sorted(elements)}


def gossip_round() -> None:
    pass  # TODO: send this node's state to its peers (node.node_ids, node.send)


# TODO: handle the message your peers send, merging it into `elements`

node.every(0.25, gossip_round)

if __name__ == "__main__":
    node.run()
