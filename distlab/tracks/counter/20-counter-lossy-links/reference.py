"""A PN-counter over lossy, duplicating links: whole states gossiped, merged by max.

A delta sent once is gone if the link drops it and counted twice if the link
copies it. A whole state (per-node totals of increments and of decrements) can be
lost, since the next round resends it, and repeated, since merging by max is
idempotent. So the counter converges however many messages are lost or copied.
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
