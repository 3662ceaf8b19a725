"""Block leases on a lossy network: a compare-and-set that timed out is treated as failed.

A timeout is ambiguous: the request may have been lost (nothing changed) or its
reply (the block is ours). Using the block could collide with whoever takes it
next, so the node reads again and leases afresh. At worst a block is wasted,
never handed out twice.
"""

import asyncio

from distlab import Node, RPCError

node = Node()
BLOCK = 100
KEY = "next-block"
TIMEOUT_CODE = 0
next_id = 0
block_end = 0
leasing = asyncio.Lock()


async def kv(body: dict) -> dict:
    return (await node.rpc("lin-kv", body, timeout=0.2)).body


async def read_counter() -> int:
    """The counter's value, retried through lost messages (a read changes nothing)."""
    while True:
        try:
            return (await kv({"type": "read", "key": KEY}))["value"]
        except RPCError as exc:
            if exc.code == 20:
                return 0
            if exc.code != TIMEOUT_CODE:
                raise


async def lease() -> int:
    """Advance the shared counter by one block; returns the block's first id."""
    while True:
        seen = await read_counter()
        try:
            await kv({"type": "cas", "key": KEY, "from": seen, "to": seen + BLOCK, "create_if_not_exists": True})
            return seen
        except RPCError as exc:
            if exc.code not in (22, TIMEOUT_CODE):
                raise
            # 22: someone else moved it. Timeout: maybe we did, maybe not; don't use it.


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
