"""Mistake: no memory of what was forwarded; a hop limit (TTL 5) stops the loops instead.

Every copy is forwarded to every neighbour until its TTL runs out. Every node
gets every message, but on a grid with cycles the copies multiply at each hop.
"""

from distlab import Node

node = Node()
TTL = 5
messages: set[int] = set()
neighbours: list[str] = []


@node.on("topology")
def topology(msg):
    neighbours[:] = msg.body["topology"].get(node.id, [])
    return {"type": "topology_ok"}


def flood(message: int, ttl: int, came_from: str | None) -> None:
    messages.add(message)
    if ttl > 0:
        for peer in neighbours:
            if peer != came_from:
                node.send(peer, {"type": "relay", "message": message, "ttl": ttl - 1})


@node.on("broadcast")
def broadcast(msg):
    flood(msg.body["message"], TTL, None)
    return {"type": "broadcast_ok"}


@node.on("relay")
def relay(msg):
    flood(msg.body["message"], msg.body["ttl"], msg.src)


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


if __name__ == "__main__":
    node.run()
