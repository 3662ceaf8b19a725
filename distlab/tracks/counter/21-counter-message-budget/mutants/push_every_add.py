"""Mistake: pushes the state to every peer on every add, for the freshest reads.

Correct, but each add costs a message to each of the other four nodes.
"""

from distlab import Node

node = Node()
plus: dict[str, int] = {}
minus: dict[str, int] = {}


def push() -> None:
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "state", "plus": plus, "minus": minus})


@node.on("add")
def add(msg):
    delta = msg.body["delta"]
    half = plus if delta >= 0 else minus
    half[node.id] = half.get(node.id, 0) + abs(delta)
    push()
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


node.every(2.0, push)  # repair after partitions

if __name__ == "__main__":
    node.run()
