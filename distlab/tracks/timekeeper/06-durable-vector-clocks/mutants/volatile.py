"""Timekeeper 6, mutant: the vector clock of task 4, in memory only."""

from distlab import Node

node = Node()
vc = {}


@node.on("event")
def event(msg):
    for other, count in msg.body.get("seen", {}).items():
        vc[other] = max(vc.get(other, 0), count)
    vc[node.id] = vc.get(node.id, 0) + 1
    return {"type": "event_ok", "vc": dict(vc)}


if __name__ == "__main__":
    node.run()
