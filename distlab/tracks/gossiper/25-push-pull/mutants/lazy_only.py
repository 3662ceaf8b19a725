"""Mistake: no eager push at all; a message spreads only by periodic rounds to random peers.

Cheap and it never loses anything, but a new message waits for several rounds
before every node has it.
"""

from distlab import Node

node = Node()
ROUND = 0.5  # seconds between pushes
messages: set[int] = set()


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    messages.add(msg.body["message"])
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


@node.on("push")
def push(msg):
    messages.update(msg.body["messages"])  # a merge: order and repeats do not matter


def gossip_round() -> None:
    peers = [p for p in node.node_ids if p != node.id]
    if peers and messages:
        node.send(node.random.choice(peers), {"type": "push", "messages": sorted(messages)})


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
