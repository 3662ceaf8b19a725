"""Elector 4, mutant: gossips liveness. Each heartbeat carries how long ago the sender heard
from everyone, and the receiver keeps the freshest news: a peer cut off from this node but
still heard by another is reported alive."""

from distlab import Node

node = Node()
INTERVAL = 0.1
TIMEOUT = 1.0
last_heard: dict[str, float] = {}


@node.on("init")
def init(msg):
    for peer in node.node_ids:
        last_heard[peer] = node.now()


def beat():
    now = node.now()
    ages = {p: now - t for p, t in last_heard.items() if p != node.id}
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "heartbeat", "ages": ages})


node.every(INTERVAL, beat)


@node.on("heartbeat")
def heartbeat(msg):
    now = node.now()
    last_heard[msg.src] = now
    for peer, age in msg.body.get("ages", {}).items():
        last_heard[peer] = max(last_heard.get(peer, 0.0), now - age)


@node.on("suspects")
def suspects(msg):
    now = node.now()
    late = [p for p in node.node_ids if p != node.id and now - last_heard.get(p, now) > TIMEOUT]
    return {"type": "suspects_ok", "suspects": late}


if __name__ == "__main__":
    node.run()
