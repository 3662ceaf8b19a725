"""Timekeeper 6: a vector clock that survives crashes."""

from distlab import Node

node = Node()
vc = {}  # TODO: lost in a crash; node.storage (dict-like, with .sync()) is not


@node.on("event")
def event(msg):
    for other, count in msg.body.get("seen", {}).items():
        vc[other] = max(vc.get(other, 0), count)
    vc[node.id] = vc.get(node.id, 0) + 1
    return {"type": "event_ok", "vc": dict(vc)}


if __name__ == "__main__":
    node.run()
