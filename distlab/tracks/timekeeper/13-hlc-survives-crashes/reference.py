"""Timekeeper 13, reference: a hybrid logical clock that survives crashes.

A Lamport clock can reserve a block of timestamps ahead and restart above it;
a hybrid clock cannot, since its l must be a time some clock really showed. So
the node syncs its last stamp before answering, and a restarted node goes on
from there (its own clock may well be behind it: a skewed clock was set right,
or l came from a node whose clock ran ahead).
"""

# ruff: noqa: E741  (l and c are the paper's names)
from distlab import Node

node = Node()
l, c = 0, 0


@node.on("init")
def start(msg):
    global l, c
    l, c = node.storage.get("last", [0, 0])


@node.on("stamp")
def stamp(msg):
    global l, c
    now = int(node.now() * 1000)
    seen_l, seen_c = msg.body.get("seen", [l, c])
    new_l = max(l, seen_l, now)
    if new_l == l and new_l == seen_l:
        c = max(c, seen_c) + 1
    elif new_l == l:
        c += 1
    elif new_l == seen_l:
        c = seen_c + 1
    else:
        c = 0
    l = new_l
    node.storage["last"] = [l, c]
    node.storage.sync()
    return {"type": "stamp_ok", "ts": [l, c]}


if __name__ == "__main__":
    node.run()
