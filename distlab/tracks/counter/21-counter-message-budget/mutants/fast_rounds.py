"""Mistake: gossips the whole state to every peer every 100 ms, changed or not.

Correct and fresh, but the cost is paid per round, not per add: 5 nodes x 4
peers x 10 rounds a second is 200 messages a second for 100 operations.
"""

from distlab import Node

node = Node()
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
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "state", "plus": plus, "minus": minus})


node.every(0.1, gossip_round)

if __name__ == "__main__":
    node.run()
