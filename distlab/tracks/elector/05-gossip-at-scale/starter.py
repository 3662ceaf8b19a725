"""Elector 5: gossip-style failure detection. Spread heartbeat counters, three peers a round."""

from distlab import Node

node = Node()
INTERVAL = 0.1
FANOUT = 3
TIMEOUT = 1.2
counters: dict[str, int] = {}  # node -> the highest heartbeat counter seen for it
grew: dict[str, float] = {}    # node -> when its counter last grew here


@node.on("init")
def init(msg):
    for peer in node.node_ids:
        counters[peer] = 0
        grew[peer] = node.now()


def gossip():
    # TODO: bump your own counter, then send the whole table to FANOUT random peers
    # (node.random.sample) as {"type": "gossip", "counters": {...}}.
    pass


node.every(INTERVAL, gossip)


@node.on("gossip")
def on_gossip(msg):
    # TODO: merge the table: keep the larger counter of each node. When is a node "heard"?
    pass


@node.on("suspects")
def suspects(msg):
    now = node.now()
    late = [p for p in node.node_ids if p != node.id and now - grew.get(p, now) > TIMEOUT]
    return {"type": "suspects_ok", "suspects": late}


if __name__ == "__main__":
    node.run()
