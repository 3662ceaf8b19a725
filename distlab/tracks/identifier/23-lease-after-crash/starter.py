"""Identifier: block leases when nodes crash. Look at the TODOs, then run `distlab check`."""

import asyncio

from distlab import Node, RPCError

node = Node()
BLOCK = 100
KEY = "next-block"
next_id = 0
block_end = 0  # equal to next_id: no block held (as after every start)
leasing = asyncio.Lock()
CHECKPOINT_EVERY = 10


@node.on("init")
def start(msg):
    global next_id, block_end
    # TODO: this resumes the old block where the last checkpoint left it. Which ids
    # were handed out after that checkpoint, before the crash?
    next_id, block_end = node.storage.get("place", [0, 0])


async def kv(body: dict) -> dict:
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


async def lease() -> int:
    """Advance the shared counter by one block (compare-and-set); returns the block's first id."""
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
        if next_id % CHECKPOINT_EVERY == 0 or next_id == block_end - BLOCK + 1:
            node.storage["place"] = [next_id, block_end]
            node.storage.sync()
        return {"type": "generate_ok", "id": next_id - 1}


if __name__ == "__main__":
    node.run()
