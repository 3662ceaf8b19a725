"""Mistake: floods each message once with fire-and-forget sends; a burst of loss drops copies for good."""

from distlab import Node

node = Node()
messages: set[int] = set()
neighbours: list[str] = []


@node.on("topology")
def topology(msg):
    neighbours[:] = msg.body["topology"].get(node.id, [])
    return {"type": "topology_ok"}


def learn(message: int, came_from: str) -> None:
    if message in messages:
        return
    messages.add(message)
    for peer in neighbours:
        if peer != came_from:
            node.send(peer, {"type": "broadcast", "message": message})


@node.on("broadcast")
def broadcast(msg):
    learn(msg.body["message"], msg.src)
    if "msg_id" in msg.body:  # peers' copies are sent without msg_id: no reply expected
        return {"type": "broadcast_ok"}
    return None


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


if __name__ == "__main__":
    node.run()
