"""Flood along a grid without storms. Fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
TTL = 5
messages: set[int] = set()
neighbours: list[str] = []


@node.on("topology")
def topology(msg):
    neighbours[:] = msg.body["topology"].get(node.id, [])
    return {"type": "topology_ok"}


def flood(message, ttl, came_from):
    messages.add(message)
    # TODO: a hop limit stops loops, but every copy still spawns more copies.
    # What do you already know that makes forwarding this copy pointless?
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
