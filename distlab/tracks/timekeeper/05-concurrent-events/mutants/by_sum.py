"""Timekeeper 5, mutant: orders clocks by their total count, like Lamport timestamps."""

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
    a, b = sum(msg.body["a"].values()), sum(msg.body["b"].values())
    order = "equal" if a == b else "before" if a < b else "after"
    return {"type": "compare_ok", "order": order}


if __name__ == "__main__":
    node.run()
