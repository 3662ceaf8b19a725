"""Timekeeper 5, mutant: a clock that is not before another is taken to be after it."""

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
    if a == b:
        return {"type": "compare_ok", "order": "equal"}
    return {"type": "compare_ok", "order": "before" if at_most(a, b) else "after"}


if __name__ == "__main__":
    node.run()
