"""Elector 5, mutant: task 2's heartbeats, every node to every node. Correct, but at 15 nodes
that is 210 messages per round."""

from distlab import Node

node = Node()
INTERVAL = 0.1  # seconds between heartbeats
TIMEOUT = 1.0   # silent this long: suspected (many missed heartbeats, well inside the 2 s deadline)
last_heard: dict[str, float] = {}


@node.on("init")
def init(msg):
    # Start everyone as just heard: a node that just (re)started knows nothing yet, and
    # must not accuse its peers before they have had a chance to speak.
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
    late = [p for p in node.node_ids if p != node.id and now - last_heard.get(p, now) > TIMEOUT]
    return {"type": "suspects_ok", "suspects": late}


if __name__ == "__main__":
    node.run()
