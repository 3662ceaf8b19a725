"""Mistake: batches deltas for 3 seconds to save messages.

Cheap, but an element takes up to 3 seconds to reach the other nodes.
"""

from distlab import Node

node = Node()
ROUND = 3.0  # rare rounds, big batches
REPAIR_EVERY = 10
elements: set[int] = set()
news: set[int] = set()  # added here since the last round
rounds = 0


@node.on("add")
def add(msg):
    if msg.body["element"] not in elements:
        elements.add(msg.body["element"])
        news.add(msg.body["element"])
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sorted(elements)}


@node.on("merge")
def merge(msg):
    elements.update(msg.body["value"])


def gossip_round() -> None:
    global rounds
    rounds += 1
    peers = [p for p in node.node_ids if p != node.id]
    if news:
        for peer in peers:
            node.send(peer, {"type": "merge", "value": sorted(news)})
        news.clear()
    if rounds % REPAIR_EVERY == 0 and elements:
        node.send(node.random.choice(peers), {"type": "merge", "value": sorted(elements)})


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
