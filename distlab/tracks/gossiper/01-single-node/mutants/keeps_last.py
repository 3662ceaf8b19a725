"""Mistake: keeps only the latest message instead of all of them."""

from distlab import Node

node = Node()
last: list[int] = []


@node.on("broadcast")
def broadcast(msg):
    last[:] = [msg.body["message"]]
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": list(last)}


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


if __name__ == "__main__":
    node.run()
