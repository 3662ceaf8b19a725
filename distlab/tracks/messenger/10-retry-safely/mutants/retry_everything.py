"""Mutant: retries every timed-out request, cas included: a cas whose reply was lost
is sent again, finds its own new value, and is reported as failed (error 22)."""

import asyncio

from distlab import Node, RPCError

node = Node()
TIMEOUT = 0.1
BASE = 0.02
CAP = 0.5
DEADLINE = 3.0


async def call(body: dict, retry: bool) -> dict:
    start = node.now()
    attempt = 0
    while True:
        try:
            return (await node.rpc("lin-kv", body, timeout=TIMEOUT)).body
        except RPCError as exc:
            if not retry or exc.code != 0 or node.now() - start > DEADLINE:
                raise
        await asyncio.sleep(node.random.uniform(0, min(CAP, BASE * 2**attempt)))
        attempt += 1


async def forward(msg):
    body = {k: v for k, v in msg.body.items() if k != "msg_id"}
    try:
        reply = await call(body, retry=True)
    except RPCError as exc:
        return exc
    return {k: v for k, v in reply.items() if k != "in_reply_to"}


for kind in ("read", "write", "cas"):
    node.on(kind)(forward)

if __name__ == "__main__":
    node.run()
