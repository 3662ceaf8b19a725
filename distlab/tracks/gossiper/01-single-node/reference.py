"""Single-node broadcast (Gossip Glomers 3a): remember every message, return them all on read."""

from distlab import Node

node = Node()
messages: set[int] = set()


@node.on("broadcast")
def broadcast(msg):
    messages.add(msg.body["message"])
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


if __name__ == "__main__":
    node.run()
