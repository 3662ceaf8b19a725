"""Timekeeper 5: vector clocks, and telling concurrent events apart."""

from distlab import Node

node = Node()
vc = {}


@node.on("event")
def event(msg):
    for other, count in msg.body.get("seen", {}).items():
        vc[other] = max(vc.get(other, 0), count)
    vc[node.id] = vc.get(node.id, 0) + 1
    return {"type": "event_ok", "vc": dict(vc)}



@node.on("compare")
def compare(msg):
    a, b = msg.body["a"], msg.body["b"]
    # TODO: "before", "after", "equal" or "concurrent" (a missing entry is 0)
    return {"type": "compare_ok", "order": "equal" if a == b else "before"}


if __name__ == "__main__":
    node.run()
