"""Timekeeper 11, mutant: no c; l itself is bumped by one millisecond per event."""

# ruff: noqa: E741  (l and c are the paper's names)
from distlab import Node

node = Node()
l = 0


@node.on("stamp")
def stamp(msg):
    global l
    l = max(l + 1, msg.body.get("seen", [0, 0])[0] + 1, int(node.now() * 1000))
    return {"type": "stamp_ok", "ts": [l, 0]}


if __name__ == "__main__":
    node.run()
