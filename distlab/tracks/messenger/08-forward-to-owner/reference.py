"""Messenger 8, reference: each key lives on one owner node; other nodes forward to it.

A forwarded request that times out may still have been applied by the owner,
so the client gets the timeout (code 0, indefinite) as it is, never a definite
error such as 11 that would claim the operation did not happen.
"""

import zlib

from distlab import Node, RPCError

node = Node()
data: dict = {}


def owner(key) -> str:
    """The node that stores `key`: the same answer on every node."""
    return node.node_ids[zlib.crc32(str(key).encode()) % len(node.node_ids)]


def apply(body: dict) -> dict:
    """Run a request on this node's own data (this node owns the key)."""
    key = body["key"]
    if body["type"] == "write":
        data[key] = body["value"]
        return {"type": "write_ok"}
    if key not in data:
        raise RPCError(20, f"key {key!r} does not exist")
    if body["type"] == "read":
        return {"type": "read_ok", "value": data[key]}
    if data[key] != body["from"]:
        raise RPCError(22, f"key {key!r} holds {data[key]!r}, not {body['from']!r}")
    data[key] = body["to"]
    return {"type": "cas_ok"}


async def handle(msg):
    body = {k: v for k, v in msg.body.items() if k != "msg_id"}
    target = owner(body["key"])
    if target == node.id:
        return apply(body)
    try:
        reply = await node.rpc(target, body, timeout=0.5)
    except RPCError as exc:
        return exc  # code 0 on a timeout: the client learns the outcome is unknown
    return {k: v for k, v in reply.body.items() if k != "in_reply_to"}


for kind in ("read", "write", "cas"):
    node.on(kind)(handle)

if __name__ == "__main__":
    node.run()
