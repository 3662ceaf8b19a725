"""Broadcast node: every node learns every message. Fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
messages: set[int] = set()


@node.on("topology")
def topology(msg):
    # msg.body["topology"] maps each node id to its suggested neighbours.
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    # TODO: remember msg.body["message"], and pass it on to other nodes
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    # TODO: return every message this node knows
    return {"type": "read_ok", "messages": []}


if __name__ == "__main__":
    node.run()
