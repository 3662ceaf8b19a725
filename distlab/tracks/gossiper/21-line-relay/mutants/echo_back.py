"""Mistake: relays a new message to every neighbour, including the one it came from.

It arrives, and it is correct (the sender drops the known message), but every
link now carries each message twice.
"""

from distlab import Node

node = Node()
messages: set[int] = set()
neighbours: list[str] = []


@node.on("topology")
def topology(msg):
    neighbours[:] = msg.body["topology"].get(node.id, [])
    return {"type": "topology_ok"}


def learn(message: int) -> None:
    if message in messages:
        return
    messages.add(message)
    for peer in neighbours:
        node.send(peer, {"type": "relay", "message": message})


@node.on("broadcast")
def broadcast(msg):
    learn(msg.body["message"])
    return {"type": "broadcast_ok"}


@node.on("relay")
def relay(msg):
    learn(msg.body["message"])


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


if __name__ == "__main__":
    node.run()
