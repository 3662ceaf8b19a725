"""Relay along a line: each node forwards a new message to its neighbours except the sender.

On a line, a message from n2 goes left to n1, n0 and right to n3, n4, n5, ...;
each link carries it once. Messages already known are dropped, not forwarded.
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
