"""Timekeeper 7, mutant: a feed, newest message first."""

from distlab import Node

node = Node()
delivered = []


@node.on("broadcast")
def broadcast(msg):
    delivered.insert(0, msg.body["message"])  # the latest on top, as a timeline shows it
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": list(delivered)}


if __name__ == "__main__":
    node.run()
