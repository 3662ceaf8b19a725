"""Mistake: an epoch from the oracle, but added to the counter instead of packed beside it.

Epoch 3 with counter 5 and epoch 5 with counter 3 both give 8.
"""

import asyncio

from distlab import Node, RPCError

node = Node()
COUNTER_BITS = 32
epoch: int | None = None
counter = 0
starting = asyncio.Lock()


async def take_epoch() -> int:
    while True:
        try:
            return (await node.rpc("lin-tso", {"type": "ts"}, timeout=0.2)).body["ts"]
        except RPCError:
            pass  # a lost ts is just a number nobody uses


@node.on("generate")
async def generate(msg):
    global epoch, counter
    if epoch is None or counter + 1 >= 1 << COUNTER_BITS:  # no epoch yet, or this one is used up
        async with starting:  # one epoch per life, however many requests wait for it
            if epoch is None or counter + 1 >= 1 << COUNTER_BITS:
                epoch, counter = await take_epoch(), 0
    counter += 1
    return {"type": "generate_ok", "id": epoch + counter}  # the mistake: a sum, not a pair


if __name__ == "__main__":
    node.run()
