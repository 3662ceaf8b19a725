"""Broadcast node that survives crashes. Fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
messages: set[int] = set()


@node.on("init")
def start(msg):
    # TODO: a restarted node starts here with empty memory: load what you synced to node.storage
    pass


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    messages.add(msg.body["message"])
    # TODO: make the message durable (node.storage + sync) before replying
    # TODO: and get it to the other nodes, even ones that crash and forget it later
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


if __name__ == "__main__":
    node.run()
