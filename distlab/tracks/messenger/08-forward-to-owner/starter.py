"""Messenger 8: a key/value store where each key lives on one owner node."""

import zlib

from distlab import Node, RPCError

node = Node()
data = {}


def owner(key):
    """The node that stores `key`: the same answer on every node."""
    return node.node_ids[zlib.crc32(str(key).encode()) % len(node.node_ids)]


def apply(body):
    """Run read / write / cas on this node's own data."""
    # TODO: write -> write_ok; read -> read_ok {value} or RPCError(20, ...);
    # cas -> cas_ok, RPCError(20, ...) or RPCError(22, ...).
    raise RPCError(10, "apply is not written yet")


async def handle(msg):
    body = {k: v for k, v in msg.body.items() if k != "msg_id"}
    target = owner(body["key"])
    if target == node.id:
        return apply(body)
    # TODO: forward to the owner with node.rpc(target, body, timeout=0.5) and
    # return its reply's body. What should the client hear if no reply comes?
    raise RPCError(10, "forwarding is not written yet")


for kind in ("read", "write", "cas"):
    node.on(kind)(handle)

if __name__ == "__main__":
    node.run()
