"""Timekeeper 2, reference: a Lamport clock on each node; merging `seen` carries causality across them."""

from distlab import Node

node = Node()
clock = 0


@node.on("stamp")
def stamp(msg):
    global clock
    clock = max(clock, msg.body.get("seen", 0)) + 1
    return {"type": "stamp_ok", "ts": clock}


if __name__ == "__main__":
    node.run()
