"""Mistake: one node, n0, holds the set; the others forward every request to it and wait.

Nothing is ever lost or stale, but a node cut off from n0 by a partition cannot
answer anything.
"""

from distlab import Node, RPCError

node = Node()
LEADER = "n0"
messages: set[int] = set()


@node.on("topology")
def topology(msg):
    return {"type": "topology_ok"}


@node.on("broadcast")
async def broadcast(msg):
    if node.id == LEADER:
        messages.add(msg.body["message"])
        return {"type": "broadcast_ok"}
    try:
        await node.rpc(LEADER, {"type": "broadcast", "message": msg.body["message"]}, timeout=1.0)
    except RPCError:
        return RPCError(11, "leader unreachable").to_body()
    return {"type": "broadcast_ok"}


@node.on("read")
async def read(msg):
    if node.id == LEADER:
        return {"type": "read_ok", "messages": sorted(messages)}
    try:
        reply = await node.rpc(LEADER, {"type": "read"}, timeout=1.0)
    except RPCError:
        return RPCError(11, "leader unreachable").to_body()
    return {"type": "read_ok", "messages": reply.body["messages"]}


if __name__ == "__main__":
    node.run()
