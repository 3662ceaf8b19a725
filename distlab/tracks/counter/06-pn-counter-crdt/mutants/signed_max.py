"""Mistake: the G-counter reused for signed deltas: a slot that went down loses the max merge."""

from distlab import Node

node = Node()
ROUND = 0.2
counts: dict[str, int] = {}  # node id -> that node's total of adds


@node.on("add")
def add(msg):
    counts[node.id] = counts.get(node.id, 0) + msg.body["delta"]
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sum(counts.values())}


@node.on("state")
def state(msg):
    for owner, value in msg.body["counts"].items():
        counts[owner] = max(counts.get(owner, 0), value)


def gossip_round() -> None:
    if counts:
        for peer in node.node_ids:
            if peer != node.id:
                node.send(peer, {"type": "state", "counts": counts})


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
