"""A PN-counter CRDT: two G-counters, one for increments (P) and one for decrements (N).

The value is sum(P) - sum(N). Each half only grows, so each merges by max as in a
G-counter; a single signed slot per node would not, because a slot that went
down looks older than it is.
"""

from distlab import Node

node = Node()
ROUND = 0.2
plus: dict[str, int] = {}
minus: dict[str, int] = {}


@node.on("add")
def add(msg):
    delta = msg.body["delta"]
    half = plus if delta >= 0 else minus
    half[node.id] = half.get(node.id, 0) + abs(delta)
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sum(plus.values()) - sum(minus.values())}


def merge(mine: dict[str, int], theirs: dict[str, int]) -> None:
    for owner, value in theirs.items():
        mine[owner] = max(mine.get(owner, 0), value)


@node.on("state")
def state(msg):
    merge(plus, msg.body["plus"])
    merge(minus, msg.body["minus"])


def gossip_round() -> None:
    if plus or minus:
        for peer in node.node_ids:
            if peer != node.id:
                node.send(peer, {"type": "state", "plus": plus, "minus": minus})


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
