"""Timekeeper 6, mutant: persists its own entry, as a Lamport clock would, and forgets the rest."""

from distlab import Node

node = Node()
vc = {}


@node.on("init")
def start(msg):
    vc[node.id] = node.storage.get("own", 0)


@node.on("event")
def event(msg):
    for other, count in msg.body.get("seen", {}).items():
        vc[other] = max(vc.get(other, 0), count)
    vc[node.id] = vc.get(node.id, 0) + 1
    node.storage["own"] = vc[node.id]
    node.storage.sync()
    return {"type": "event_ok", "vc": dict(vc)}


if __name__ == "__main__":
    node.run()
