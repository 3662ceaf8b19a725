"""Timekeeper 11, mutant: no c; l itself is bumped by one millisecond per event."""

from distlab import Node

node = Node()
l = 0  # noqa: E741


@node.on("stamp")
def stamp(msg):
    global l
    l = max(l + 1, msg.body.get("seen", [0, 0])[0] + 1, int(node.now() * 1000))
    return {"type": "stamp_ok", "ts": [l, 0]}


if __name__ == "__main__":
    node.run()
