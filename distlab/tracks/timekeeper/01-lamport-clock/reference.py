"""Timekeeper 1, reference: a Lamport clock. Merge what the request carried, then tick."""

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
