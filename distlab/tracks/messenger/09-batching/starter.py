"""Messenger 9: a G-counter under high load with under one message per operation."""

from distlab import Node

node = Node()
totals = {}  # node id -> that node's own total


@node.on("add")
def add(msg):
    totals[node.id] = totals.get(node.id, 0) + msg.body["delta"]
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sum(totals.values())}


@node.on("state")
def merge(msg):
    # TODO: merge a peer's table into totals so that a duplicated, late or
    # repeated table can do no harm.
    pass


def gossip():
    # TODO: send this node's table to every peer with node.send(...). Sending
    # every round at any rate costs 5 x 4 messages per round: send when
    # something changed, and now and then anyway, to repair losses.
    pass


node.every(0.1, gossip)

if __name__ == "__main__":
    node.run()
