"""Timekeeper 11, mutant: the physical clock alone, with c always 0."""

from distlab import Node

node = Node()


@node.on("stamp")
def stamp(msg):
    return {"type": "stamp_ok", "ts": [int(node.now() * 1000), 0]}


if __name__ == "__main__":
    node.run()
