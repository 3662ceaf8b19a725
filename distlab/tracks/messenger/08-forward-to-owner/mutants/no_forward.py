"""Mutant: every node keeps its own copy and never forwards: fast, and each node
disagrees with the others."""

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
    return apply(body)


for kind in ("read", "write", "cas"):
    node.on(kind)(handle)

if __name__ == "__main__":
    node.run()
