"""Elector 6, reference: the bully rule on top of heartbeats. Every node hears (or misses)
every other node, so each can apply the rule itself: the leader is the highest id among
the nodes it can hear, itself included. A node that comes back with a higher id takes
over at once, as in Garcia-Molina's bully algorithm."""

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
    now = node.now()
    alive = [p for p in node.node_ids if p == node.id or now - last_heard.get(p, now) <= TIMEOUT]
    return {"type": "leader_ok", "leader": max(alive, key=rank)}


if __name__ == "__main__":
    node.run()
