"""Mistake: repairs by pushing the whole set to every peer ten times a second.

It converges fast and never loses a message, but most of those messages carry
nothing new: the traffic dwarfs the workload.
"""

from distlab import Node

node = Node()
messages: set[int] = set()


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    messages.add(msg.body["message"])
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


@node.on("push")
def push(msg):
    messages.update(msg.body["messages"])


def gossip_round() -> None:
    if messages:
        for peer in node.node_ids:
            if peer != node.id:
                node.send(peer, {"type": "push", "messages": sorted(messages)})


node.every(0.1, gossip_round)

if __name__ == "__main__":
    node.run()
