"""Timekeeper 2: a Lamport clock on each of three nodes."""

from distlab import Node

node = Node()
clock = 0


@node.on("stamp")
def stamp(msg):
    global clock
    # TODO: "seen" may come from another node's clock, far ahead of this one.
    clock += 1
    return {"type": "stamp_ok", "ts": clock}


if __name__ == "__main__":
    node.run()
