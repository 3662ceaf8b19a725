"""Broadcast on a line of nodes. Fill in the TODOs, then run `distlab check`."""

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
    # TODO: pass it on to the neighbours; they must pass it on too (a "relay" message)
    return {"type": "broadcast_ok"}


# TODO: a handler for the relay message: learn it, and relay it further if it is new


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


if __name__ == "__main__":
    node.run()
