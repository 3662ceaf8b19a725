"""Timekeeper 4, mutant: on every event, adds one to every entry, not just its own."""

from distlab import Node

node = Node()
vc = {}


@node.on("event")
def event(msg):
    for other, count in msg.body.get("seen", {}).items():
        vc[other] = max(vc.get(other, 0), count)
    for other in node.node_ids:  # "time passes for everyone"
        vc[other] = vc.get(other, 0) + 1
    return {"type": "event_ok", "vc": dict(vc)}


if __name__ == "__main__":
    node.run()
