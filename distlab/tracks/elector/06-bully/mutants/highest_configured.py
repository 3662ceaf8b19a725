"""Elector 6, mutant: the highest configured id leads, alive or not. Heartbeats are sent
and received, but the leader answer never looks at them."""

from distlab import Node

node = Node()
INTERVAL = 0.1
TIMEOUT = 1.0
last_heard: dict[str, float] = {}


def rank(node_id: str) -> int:
    """n10 outranks n9: compare the numbers, not the strings."""
    return int(node_id.lstrip("n"))


@node.on("init")
def init(msg):
    for peer in node.node_ids:
        last_heard[peer] = node.now()


def beat():
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "heartbeat"})


node.every(INTERVAL, beat)


@node.on("heartbeat")
def heartbeat(msg):
    last_heard[msg.src] = node.now()


@node.on("leader")
def leader(msg):
    return {"type": "leader_ok", "leader": max(node.node_ids, key=rank)}


if __name__ == "__main__":
    node.run()
