"""A counter with a classic race: read the shared total, add, write it back (no cas).

Two adds that interleave between read and write lose one of them; seq-kv's
stale reads make it worse. The final read then falls outside the allowed range.
"""

from distlab import Node, RPCError

node = Node()


async def current():
    try:
        return (await node.rpc("seq-kv", {"type": "read", "key": "total"})).body["value"]
    except RPCError:
        return 0


@node.on("add")
async def add(msg):
    value = await current()
    await node.rpc("seq-kv", {"type": "write", "key": "total", "value": value + msg.body["delta"]})
    return {"type": "add_ok"}


@node.on("read")
async def read(msg):
    return {"type": "read_ok", "value": await current()}


if __name__ == "__main__":
    node.run()
