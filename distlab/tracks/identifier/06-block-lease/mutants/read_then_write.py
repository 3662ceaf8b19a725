"""Mutant: leases with a read then a plain write; two nodes can lease the same block."""

import asyncio

from distlab import Node, RPCError

node = Node()
BLOCK = 100
KEY = "next-block"
next_id = 0
block_end = 0
leasing = asyncio.Lock()


async def kv(body: dict) -> dict:
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


async def lease() -> int:
    try:
        seen = (await kv({"type": "read", "key": KEY}))["value"]
    except RPCError as exc:
        if exc.code != 20:
            raise
        seen = 0
    await kv({"type": "write", "key": KEY, "value": seen + BLOCK})
    return seen


@node.on("generate")
async def generate(msg):
    global next_id, block_end
    async with leasing:
        if next_id == block_end:
            next_id = await lease()
            block_end = next_id + BLOCK
        next_id += 1
        return {"type": "generate_ok", "id": next_id - 1}


if __name__ == "__main__":
    node.run()
