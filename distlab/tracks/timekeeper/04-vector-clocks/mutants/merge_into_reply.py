"""Timekeeper 4, mutant: merges `seen` into the reply but keeps only its own count."""

from distlab import Node

node = Node()
vc = {}


@node.on("event")
def event(msg):
    vc[node.id] = vc.get(node.id, 0) + 1
    reply = dict(vc)
    for other, count in msg.body.get("seen", {}).items():
        reply[other] = max(reply.get(other, 0), count)  # the node's own clock never learns it
    return {"type": "event_ok", "vc": reply}


if __name__ == "__main__":
    node.run()
