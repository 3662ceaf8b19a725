"""G-set by batched deltas: this node sends its whole set every 250 ms. Make it cheaper, then `distlab check`."""

from distlab import Node

node = Node()
ROUND = 0.25  # TODO: a round length that meets both targets
elements: set[int] = set()


@node.on("add")
def add(msg):
    elements.add(msg.body["element"])  # TODO: also remember it as news to send
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sorted(elements)}


@node.on("merge")
def merge(msg):
    elements.update(msg.body["value"])


def gossip_round() -> None:
    for peer in node.node_ids:  # TODO: send only what is new, and only when there is some
        if peer != node.id:
            node.send(peer, {"type": "merge", "value": sorted(elements)})


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
