"""Timekeeper 4: a vector clock on each of three nodes."""

from distlab import Node

node = Node()
vc = {}  # node id -> how many of that node's events this node has heard of


@node.on("event")
def event(msg):
    # TODO: msg.body["seen"] is the client's clock, e.g. {"n0": 4, "n2": 1}.
    # Reply with this event's clock: everything it causally follows, plus itself.
    return {"type": "event_ok", "vc": dict(vc)}


if __name__ == "__main__":
    node.run()
