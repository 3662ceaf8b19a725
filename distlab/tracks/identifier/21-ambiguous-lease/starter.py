"""Identifier: block leases from lin-kv on a lossy network. Fill in the TODOs, then `distlab check`."""

import asyncio

from distlab import Node, RPCError

node = Node()
BLOCK = 100
KEY = "next-block"
next_id = 0
block_end = 0
leasing = asyncio.Lock()


async def kv(body):
    return (await node.rpc("lin-kv", body, timeout=0.2)).body


async def lease():
    """Advance the shared counter by one block; returns the block's first id."""
    while True:
        try:
            seen = (await kv({"type": "read", "key": KEY}))["value"]
        except RPCError as exc:
            if exc.code != 20:
                raise  # TODO: code 0 (timed out): a read changes nothing, so ...?
            seen = 0
        try:
            await kv({"type": "cas", "key": KEY, "from": seen, "to": seen + BLOCK, "create_if_not_exists": True})
            return seen
        except RPCError as exc:
            if exc.code != 22:
                raise  # TODO: code 0 (timed out): did the cas happen or not? Is the block yours?


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
