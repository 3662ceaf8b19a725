"""Broadcast that tells every peer once (fine without faults), but n1 never answers a read.

Its final read can only time out: the final phase must stay bounded and the
checker must not call the run valid without knowing what n1 holds.
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
    messages.add(msg.body["message"])


@node.on("read")
def read(msg):
    if node.id == "n1":
        return None  # hangs: no reply, ever
    return {"type": "read_ok", "messages": sorted(messages)}


if __name__ == "__main__":
    node.run()
