"""Broadcast on a lossy network, fast and cheap. Fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
messages: set[int] = set()


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    messages.add(msg.body["message"])
    # TODO: push it to every peer once, now (a "push" message, no reply)
    return {"type": "broadcast_ok"}


# TODO: handle "push"; and a slow repair round (node.every) that swaps sets with one random peer


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


if __name__ == "__main__":
    node.run()
