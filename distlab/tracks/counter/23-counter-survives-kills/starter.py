"""A CRDT counter that survives kills: fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
ROUND = 0.2
plus: dict[str, int] = {}
minus: dict[str, int] = {}


def persist() -> None:
    pass  # TODO: write `plus` and `minus` to node.storage, and sync


@node.on("init")
def recover(msg):
    pass  # TODO: reload `plus` and `minus` from node.storage


@node.on("add")
def add(msg):
    delta = msg.body["delta"]
    half = plus if delta >= 0 else minus
    half[node.id] = half.get(node.id, 0) + abs(delta)
    persist()
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
    if merge(plus, msg.body["plus"]) | merge(minus, msg.body["minus"]):
        persist()


def gossip_round() -> None:
    if plus or minus:
        for peer in node.node_ids:
            if peer != node.id:
                node.send(peer, {"type": "state", "plus": plus, "minus": minus})


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
