"""A G-set synced by batched deltas: fresh within half a second, cheap in messages.

Sending the whole set every 250 ms to every peer costs messages whether or not
anything changed. Here a node sends only the elements clients added to it since
its last round, every 500 ms, and only if there are any. Each node sends its own
news straight to every peer, so nobody forwards what it received. Every tenth
round a node also sends its whole set to one random peer, a cheap repair in
case a delta was ever lost.
"""

from distlab import Node

node = Node()
ROUND = 0.5
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
