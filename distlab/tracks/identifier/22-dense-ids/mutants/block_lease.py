"""Mutant: block-lease's answer (blocks of 100 ids leased with compare-and-set): unique,
but each node's unused rest of a block is a gap."""

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
    """Advance the shared counter by one block; returns the block's first id."""
    try:
        seen = (await kv({"type": "read", "key": KEY}))["value"]
    except RPCError as exc:
        if exc.code != 20:
            raise
        seen = 0
    while True:
        try:
            await kv({"type": "cas", "key": KEY, "from": seen, "to": seen + BLOCK, "create_if_not_exists": True})
            return seen
        except RPCError as exc:
            if exc.code != 22:
                raise
        seen = (await kv({"type": "read", "key": KEY}))["value"]


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
