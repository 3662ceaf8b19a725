"""Timekeeper 12, mutant: a clock that never goes back on its own node, but ignores the timestamp the request carried."""

# ruff: noqa: E741  (l and c are the paper's names)
from distlab import Node

node = Node()
l, c = 0, 0


@node.on("stamp")
def stamp(msg):
    global l, c
    now = int(node.now() * 1000)
    if now > l:  # monotonic on this node; what other nodes said is not needed, is it?
        l, c = now, 0
    else:
        c += 1
    return {"type": "stamp_ok", "ts": [l, c]}


if __name__ == "__main__":
    node.run()
