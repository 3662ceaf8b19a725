"""Messenger 2: serve read / write / cas by forwarding them to the lin-kv service."""

from distlab import Node, RPCError

node = Node()


@node.on("read")
async def read(msg):
    # TODO: ask lin-kv: reply = await node.rpc("lin-kv", {"type": "read", "key": ...}, timeout=1.0)
    # and return {"type": "read_ok", "value": ...}. An RPCError from lin-kv should
    # reach the client unchanged (return it).
    raise RPCError(10, "read is not written yet")


@node.on("write")
async def write(msg):
    # TODO: same for {"type": "write", "key": ..., "value": ...} -> {"type": "write_ok"}
    raise RPCError(10, "write is not written yet")


@node.on("cas")
async def cas(msg):
    # TODO: same for {"type": "cas", "key": ..., "from": ..., "to": ...} -> {"type": "cas_ok"}
    raise RPCError(10, "cas is not written yet")


if __name__ == "__main__":
    node.run()
