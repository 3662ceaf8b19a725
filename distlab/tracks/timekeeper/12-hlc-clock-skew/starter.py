"""Timekeeper 12: a hybrid logical clock under clock skew (start from your last one)."""

# ruff: noqa: E741  (l and c are the paper's names)
from distlab import Node

node = Node()
l, c = 0, 0  # l: milliseconds of physical time, c: events within one l


@node.on("stamp")
def stamp(msg):
    global l, c
    now = int(node.now() * 1000)  # this node's clock, in milliseconds
    # TODO: msg.body may carry "seen": [l, c] from another node's clock.
    l, c = now, 0
    return {"type": "stamp_ok", "ts": [l, c]}


if __name__ == "__main__":
    node.run()
