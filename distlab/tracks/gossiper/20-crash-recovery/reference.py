"""Broadcast through crashes: durable acknowledgements plus anti-entropy that never stops.

A message is synced to storage before `broadcast_ok`, so a crash cannot lose
what a client was told is safe. A restarted node starts with what it synced and
learns the rest again, because every node keeps pushing its whole set to every
peer each round: there is no "already acknowledged, never send again".
"""

from distlab import Node

node = Node()
ROUND = 0.5  # seconds between pushes
messages: set[int] = set()


@node.on("init")
def start(msg):
    messages.update(node.storage.get("own", []))  # what this node acknowledged in earlier lives


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    message = msg.body["message"]
    if message not in messages:
        messages.add(message)
        node.storage["own"] = node.storage.get("own", []) + [message]
        node.storage.sync()  # durable before the client hears "ok"
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


@node.on("push")
def push(msg):
    messages.update(msg.body["messages"])


def gossip_round() -> None:
    if messages:
        for peer in node.node_ids:
            if peer != node.id:
                node.send(peer, {"type": "push", "messages": sorted(messages)})


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
