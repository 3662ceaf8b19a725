"""Mistake: replies broadcast_ok only after every peer has acknowledged the message.

Safe in a way (an acknowledged message is everywhere), but one peer behind a
partition makes every broadcast fail.
"""

import asyncio

from distlab import Node, RPCError

node = Node()
messages: set[int] = set()


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
async def broadcast(msg):
    message = msg.body["message"]
    messages.add(message)
    peers = [p for p in node.node_ids if p != node.id]
    results = await asyncio.gather(
        *(node.rpc(p, {"type": "gossip", "messages": [message]}, timeout=1.0) for p in peers),
        return_exceptions=True,
    )
    if any(isinstance(r, RPCError) for r in results):
        return RPCError(11, "not every peer acknowledged").to_body()
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
