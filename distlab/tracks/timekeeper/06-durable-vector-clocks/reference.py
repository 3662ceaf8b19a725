"""Timekeeper 6, reference: a vector clock that survives crashes.

Every entry matters: the node's own count (events must not be counted twice) and
the others (the node's next event must still know what the last one knew). So the
whole clock is synced before each reply, and reloaded at every start.
"""

from distlab import Node

node = Node()
vc = {}


@node.on("init")
def start(msg):
    vc.update(node.storage.get("vc", {}))


@node.on("event")
def event(msg):
    for other, count in msg.body.get("seen", {}).items():
        vc[other] = max(vc.get(other, 0), count)
    vc[node.id] = vc.get(node.id, 0) + 1
    node.storage["vc"] = dict(vc)
    node.storage.sync()
    return {"type": "event_ok", "vc": dict(vc)}


if __name__ == "__main__":
    node.run()
