"""Broadcast node that survives paused peers. Fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
messages: set[int] = set()


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    messages.add(msg.body["message"])
    # TODO: get it to every other node; a peer may be frozen for seconds and answer nothing
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


if __name__ == "__main__":
    node.run()
