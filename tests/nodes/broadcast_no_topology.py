"""Broadcast with no `topology` handler: the workload's setup gets error 10 (not supported)."""

from distlab import Node

node = Node()
messages = set()


@node.on("broadcast")
def broadcast(msg):
    messages.add(msg.body["message"])
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


if __name__ == "__main__":
    node.run()
