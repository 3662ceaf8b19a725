"""Mistake: keeps each element on the node that received it; no node ever merges."""

from distlab import Node

node = Node()
elements: set[int] = set()


@node.on("add")
def add(msg):
    elements.add(msg.body["element"])
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sorted(elements)}


if __name__ == "__main__":
    node.run()
