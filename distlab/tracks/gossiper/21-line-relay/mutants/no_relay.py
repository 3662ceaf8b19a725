"""Mistake: sends a client's message to its direct neighbours, who keep it to themselves.

On a line, only the two nodes next to the one the client chose ever hear of it.
"""

from distlab import Node

node = Node()
messages: set[int] = set()
neighbours: list[str] = []


@node.on("topology")
def topology(msg):
    neighbours[:] = msg.body["topology"].get(node.id, [])
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    messages.add(msg.body["message"])
    for peer in neighbours:
        node.send(peer, {"type": "relay", "message": msg.body["message"]})
    return {"type": "broadcast_ok"}


@node.on("relay")
def relay(msg):
    messages.add(msg.body["message"])  # kept, never passed on


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


if __name__ == "__main__":
    node.run()
