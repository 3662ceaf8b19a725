"""A PN-counter CRDT on a message budget: many adds ride in one gossip message.

Clients are told only that the counter is eventually exact, so a node may
answer reads from a state up to a second old. That slack pays for itself: one
gossip round a second carries every add made since the last, so the cost per
add falls as the rate rises. A node that has heard nothing new stays quiet,
apart from a resend every few rounds that repairs what a partition lost.
"""

from distlab import Node

node = Node()
ROUND = 1.0  # seconds between gossip rounds
REPAIR_EVERY = 3  # rounds: resend even when nothing changed
plus: dict[str, int] = {}
minus: dict[str, int] = {}
changed = False
rounds = 0


@node.on("add")
def add(msg):
    global changed
    delta = msg.body["delta"]
    half = plus if delta >= 0 else minus
    half[node.id] = half.get(node.id, 0) + abs(delta)
    changed = True
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sum(plus.values()) - sum(minus.values())}


def merge(mine: dict[str, int], theirs: dict[str, int]) -> bool:
    news = False
    for owner, value in theirs.items():
        if value > mine.get(owner, 0):
            mine[owner] = value
            news = True
    return news


@node.on("state")
def state(msg):
    global changed
    if merge(plus, msg.body["plus"]) | merge(minus, msg.body["minus"]):
        changed = True


def gossip_round() -> None:
    global changed, rounds
    rounds += 1
    if not (plus or minus) or not (changed or rounds % REPAIR_EVERY == 0):
        return
    changed = False
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "state", "plus": plus, "minus": minus})


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
