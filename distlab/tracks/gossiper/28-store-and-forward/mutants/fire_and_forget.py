"""Mistake: relays each new message to the next hop once, without an acknowledgement.

Right on a reliable line; on a lossy one, a message dropped at any hop never
reaches the nodes beyond it.
"""

from distlab import Node

node = Node()
messages: set[int] = set()
neighbours: list[str] = []


@node.on("topology")
def topology(msg):
    neighbours[:] = msg.body["topology"].get(node.id, [])
    return {"type": "topology_ok"}


def learn(message: int, came_from: str | None) -> None:
    if message in messages:
        return
    messages.add(message)
    for peer in neighbours:
        if peer != came_from:
            node.send(peer, {"type": "relay", "message": message})


@node.on("broadcast")
def broadcast(msg):
    learn(msg.body["message"], None)
    return {"type": "broadcast_ok"}


@node.on("relay")
def relay(msg):
    learn(msg.body["message"], msg.src)


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


if __name__ == "__main__":
    node.run()
