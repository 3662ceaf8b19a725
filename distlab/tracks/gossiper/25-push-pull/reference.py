"""Eager push, lazy repair: send each new message once, and let a slow push-pull round fix losses.

The eager push makes the common case fast: one message per peer, no
acknowledgements. Once a second each node swaps sets with one random peer
(`sync` carries its set, `sync_ok` what the peer has that it lacks), which
repairs whatever the lossy network dropped, at two messages per node per second.
"""

from distlab import Node

node = Node()
ROUND = 1.0  # seconds between push-pull exchanges
messages: set[int] = set()


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
def broadcast(msg):
    message = msg.body["message"]
    if message not in messages:
        messages.add(message)
        for peer in node.node_ids:
            if peer != node.id:
                node.send(peer, {"type": "push", "message": message})  # once; repair is lazy
    return {"type": "broadcast_ok"}


@node.on("push")
def push(msg):
    messages.add(msg.body["message"])


@node.on("sync")
def sync(msg):
    theirs = set(msg.body["messages"])
    missing_there = sorted(messages - theirs)
    messages.update(theirs)
    node.send(msg.src, {"type": "sync_ok", "messages": missing_there})


@node.on("sync_ok")
def sync_ok(msg):
    messages.update(msg.body["messages"])


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": sorted(messages)}


def exchange() -> None:
    peers = [p for p in node.node_ids if p != node.id]
    if peers:
        node.send(node.random.choice(peers), {"type": "sync", "messages": sorted(messages)})


node.every(ROUND, exchange)

if __name__ == "__main__":
    node.run()
