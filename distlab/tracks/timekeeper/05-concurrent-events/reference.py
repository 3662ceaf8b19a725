"""Timekeeper 5, reference: vector clocks and their comparison (missing entries are 0)."""

from distlab import Node

node = Node()
vc = {}


@node.on("event")
def event(msg):
    for other, count in msg.body.get("seen", {}).items():
        vc[other] = max(vc.get(other, 0), count)
    vc[node.id] = vc.get(node.id, 0) + 1
    return {"type": "event_ok", "vc": dict(vc)}


def at_most(a, b):
    return all(count <= b.get(other, 0) for other, count in a.items())


@node.on("compare")
def compare(msg):
    a, b = msg.body["a"], msg.body["b"]
    ab, ba = at_most(a, b), at_most(b, a)
    order = "equal" if ab and ba else "before" if ab else "after" if ba else "concurrent"
    return {"type": "compare_ok", "order": order}


if __name__ == "__main__":
    node.run()
