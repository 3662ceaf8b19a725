"""Broadcast on a network that drops and duplicates. Fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
messages: list[int] = []


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    messages.append(msg.body["message"])
    # TODO: send it to the other nodes, and resend until each one acknowledges
    return {"type": "broadcast_ok"}


@node.on("gossip")
def gossip(msg):
    messages.extend(msg.body["messages"])  # TODO: what if this batch arrives twice?
    return {"type": "gossip_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": list(messages)}


if __name__ == "__main__":
    node.run()
