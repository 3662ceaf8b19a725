"""Timekeeper 2, mutant: a per-node counter that never looks at `seen`."""

from distlab import Node

node = Node()
clock = 0


@node.on("stamp")
def stamp(msg):
    global clock
    clock += 1
    return {"type": "stamp_ok", "ts": clock}


if __name__ == "__main__":
    node.run()
