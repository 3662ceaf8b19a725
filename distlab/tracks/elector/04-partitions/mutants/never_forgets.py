"""Elector 4, mutant: a suspect set that only grows. A peer silent for a second is added,
and nothing ever takes it out again, so a node that restarted stays suspected forever."""

from distlab import Node

node = Node()
INTERVAL = 0.1
TIMEOUT = 1.0
last_heard: dict[str, float] = {}
suspected: set[str] = set()


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


@node.on("suspects")
def suspects(msg):
    now = node.now()
    for p in node.node_ids:
        if p != node.id and now - last_heard.get(p, now) > TIMEOUT:
            suspected.add(p)
    return {"type": "suspects_ok", "suspects": sorted(suspected)}


if __name__ == "__main__":
    node.run()
