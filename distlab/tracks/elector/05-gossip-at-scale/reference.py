"""Elector 5, reference: gossip-style failure detection (van Renesse, Minsky and Hayden).

Each node keeps a heartbeat counter per node. Ten times a second it bumps its own and
sends its whole table to three peers chosen at random; a receiver keeps the larger counter
of each pair. A node is suspected when its counter has not grown for TIMEOUT seconds:
only the node itself can make it grow, so a dead node's counter stops everywhere, while a
live one's news reaches everyone within a few rounds. The cost is three messages per node
per round, however large the cluster.
"""

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
        if count > counters.get(peer, -1):
            counters[peer] = count
            grew[peer] = now


@node.on("suspects")
def suspects(msg):
    now = node.now()
    late = [p for p in node.node_ids if p != node.id and now - grew.get(p, now) > TIMEOUT]
    return {"type": "suspects_ok", "suspects": late}


if __name__ == "__main__":
    node.run()
