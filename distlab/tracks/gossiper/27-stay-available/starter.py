"""Broadcast that answers during partitions. Fill in the TODOs, then run `distlab check`."""

from distlab import Node

node = Node()
LEADER = "n0"
messages: set[int] = set()


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
async def broadcast(msg):
    # TODO: this waits for n0, which a partition may cut off. Answer locally instead,
    # and get the message to every peer in the background until each acknowledges.
    if node.id != LEADER:
        await node.rpc(LEADER, {"type": "gossip", "messages": [msg.body["message"]]}, timeout=1.0)
    messages.add(msg.body["message"])
    return {"type": "broadcast_ok"}


@node.on("gossip")
def gossip(msg):
    messages.update(msg.body["messages"])
    return {"type": "gossip_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


if __name__ == "__main__":
    node.run()
