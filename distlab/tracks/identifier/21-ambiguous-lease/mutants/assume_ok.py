"""Mistake: a compare-and-set that timed out is taken as a success.

When the request itself was lost, the counter never moved: the next node to
lease gets the same block, and both hand out its ids.
"""

import asyncio

from distlab import Node, RPCError

node = Node()
BLOCK = 100
KEY = "next-block"
next_id = 0
block_end = 0
leasing = asyncio.Lock()


async def kv(body: dict) -> dict:
    return (await node.rpc("lin-kv", body, timeout=0.2)).body


async def read_counter() -> int:
    while True:
        try:
            return (await kv({"type": "read", "key": KEY}))["value"]
        except RPCError as exc:
            if exc.code == 20:
                return 0
            if exc.code != 0:
                raise


async def lease() -> int:
    while True:
        seen = await read_counter()
        try:
            await kv({"type": "cas", "key": KEY, "from": seen, "to": seen + BLOCK, "create_if_not_exists": True})
            return seen
        except RPCError as exc:
            if exc.code == 0:
                return seen  # the mistake: "it probably went through"
            if exc.code != 22:
                raise


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
