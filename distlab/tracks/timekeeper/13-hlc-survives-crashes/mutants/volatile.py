"""Timekeeper 13, mutant: the hybrid clock of the last task, in memory only."""

# ruff: noqa: E741  (l and c are the paper's names)
from distlab import Node

node = Node()
l, c = 0, 0


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
    return {"type": "stamp_ok", "ts": [l, c]}


if __name__ == "__main__":
    node.run()
