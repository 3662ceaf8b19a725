"""Mistake: every node read-modify-writes one shared key without compare-and-set.

Two nodes that read the same total both write total+delta: one increment is lost.
"""

from distlab import Node, RPCError

node = Node()


async def kv(body: dict) -> dict:
    return (await node.rpc("seq-kv", body, timeout=1.0)).body


async def current() -> int:
    try:
        return (await kv({"type": "read", "key": "counter"}))["value"]
    except RPCError as exc:
        if exc.code == 20:
            return 0
        raise


@node.on("add")
async def add(msg):
    value = await current()
    await kv({"type": "write", "key": "counter", "value": value + msg.body["delta"]})
    return {"type": "add_ok"}


@node.on("read")
async def read(msg):
    return {"type": "read_ok", "value": await current()}


if __name__ == "__main__":
    node.run()
