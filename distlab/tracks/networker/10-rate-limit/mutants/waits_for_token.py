"""Mutant: waits for a token instead of refusing; the queue grows and clients wait seconds."""

import asyncio

from distlab import Node, RPCError

node = Node()
RATE = 45.0  # tokens a second
BURST = 5.0  # at most this many saved up: any second then holds at most RATE + BURST calls

tokens = BURST
last = 0.0


def take() -> bool:
    global tokens, last
    now = node.now()
    tokens = min(BURST, tokens + (now - last) * RATE)
    last = now
    if tokens < 1.0:
        return False
    tokens -= 1.0
    return True


@node.on("quote")
async def quote(msg):
    while not take():  # wait for a token instead of refusing
        await asyncio.sleep(1 / RATE)
    try:
        reply = await node.rpc("backend", {"type": "quote", "id": msg.body["id"]}, timeout=0.1)
    except RPCError as exc:
        return exc
    return {"type": "quote_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
