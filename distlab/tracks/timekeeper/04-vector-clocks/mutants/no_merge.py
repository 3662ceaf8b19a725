"""Timekeeper 4, mutant: counts its own events and never merges what the client carried."""

from distlab import Node

node = Node()
count = 0


@node.on("event")
def event(msg):
    global count
    count += 1
    return {"type": "event_ok", "vc": {node.id: count}}


if __name__ == "__main__":
    node.run()
