"""Broadcast whose gossip handler reads a field the sender never sets: a KeyError per gossip.

Every node keeps only what its own clients broadcast, so the final reads miss
most messages.
"""

from distlab import Node

node = Node()
messages = set()


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    message = msg.body["message"]
    messages.add(message)
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "gossip", "message": message})
    return {"type": "broadcast_ok"}


@node.on("gossip")
def gossip(msg):
    messages.update(msg.body["messages"])  # the bug: the sender set "message"


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


if __name__ == "__main__":
    node.run()
