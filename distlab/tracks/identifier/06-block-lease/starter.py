"""Identifier 6: lease blocks of 100 ids from a shared counter in lin-kv."""

from distlab import Node, RPCError

node = Node()
BLOCK = 100
next_id = 0
block_end = 0  # next_id == block_end: this node holds no unused ids


async def kv(body):
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


async def lease():
    """Take the next block: returns its first id."""
    # TODO: read "next-block" (error code 20: nobody leased yet, start at 0), then
    # compare-and-set it from that value to value + BLOCK; if another node got
    # there first (error code 22), try again.
    raise RPCError(13, "lease is not written yet")


@node.on("generate")
async def generate(msg):
    global next_id, block_end
    if next_id == block_end:
        # TODO: several requests can get here before a lease returns (wasted blocks).
        next_id = await lease()
        block_end = next_id + BLOCK
    next_id += 1
    return {"type": "generate_ok", "id": next_id - 1}


if __name__ == "__main__":
    node.run()
