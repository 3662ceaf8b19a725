"""Elector 5, mutant: a node counts as heard whenever gossip mentions it, grown counter or
not. Tables keep mentioning a dead node forever, so it is never suspected."""

from distlab import Node

node = Node()
INTERVAL = 0.1
FANOUT = 3
TIMEOUT = 1.2  # several rounds of spreading; news of a death takes a few more to settle
counters: dict[str, int] = {}
grew: dict[str, float] = {}  # node -> when its counter last grew here


@node.on("init")
def init(msg):
    for peer in node.node_ids:
        counters[peer] = 0
        grew[peer] = node.now()


def gossip():
    counters[node.id] += 1
    peers = [p for p in node.node_ids if p != node.id]
    for peer in node.random.sample(peers, min(FANOUT, len(peers))):
        node.send(peer, {"type": "gossip", "counters": dict(counters)})


node.every(INTERVAL, gossip)


@node.on("gossip")
def on_gossip(msg):
    now = node.now()
    for peer, count in msg.body["counters"].items():
        counters[peer] = max(count, counters.get(peer, -1))
        grew[peer] = now  # mentioned, so alive


@node.on("suspects")
def suspects(msg):
    now = node.now()
    late = [p for p in node.node_ids if p != node.id and now - grew.get(p, now) > TIMEOUT]
    return {"type": "suspects_ok", "suspects": late}


if __name__ == "__main__":
    node.run()
