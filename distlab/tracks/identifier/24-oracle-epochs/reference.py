"""Crash-safe ids without a disk: each life of a node takes a fresh epoch from lin-tso.

The oracle never hands out a number twice, so no two lives of any nodes share
an epoch. Within a life a counter in memory is enough. The id packs both into
one integer as ZooKeeper's zxid does: epoch in the high bits, counter in the
low 32 bits, so two (epoch, counter) pairs never collide.
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
    return {"type": "generate_ok", "id": (epoch << COUNTER_BITS) | counter}


if __name__ == "__main__":
    node.run()
