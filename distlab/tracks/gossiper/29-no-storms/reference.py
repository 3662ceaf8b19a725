"""Flooding without storms: forward a message only the first time it arrives.

The grid has cycles, so a flooded message comes back to nodes that already
have it, and the network also delivers some copies twice. The set of seen
messages is the loop guard: a known message is dropped, not forwarded.
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
