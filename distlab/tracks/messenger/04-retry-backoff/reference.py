"""Messenger 4, reference: timed-out RPCs retried with full-jitter exponential backoff, capped.

Each attempt is a fresh node.rpc (a fresh msg_id), so a late reply to an
abandoned attempt cannot be taken for the current one.
"""

import asyncio

from distlab import Node, RPCError

node = Node()
TIMEOUT = 0.1
BASE = 0.02
CAP = 0.5
DEADLINE = 4.0
RETRYABLE = (0, 11)  # timeout, temporarily unavailable


async def timestamp() -> int:
    """One timestamp from lin-tso; timeouts are retried until DEADLINE."""
    start = node.now()
    attempt = 0
    while True:
        try:
            reply = await node.rpc("lin-tso", {"type": "ts"}, timeout=TIMEOUT)
            return reply.body["ts"]
        except RPCError as exc:
            if exc.code not in RETRYABLE or node.now() - start > DEADLINE:
                raise
        await asyncio.sleep(node.random.uniform(0, min(CAP, BASE * 2**attempt)))
        attempt += 1


@node.on("generate")
async def generate(msg):
    try:
        return {"type": "generate_ok", "id": await timestamp()}
    except RPCError as exc:
        return exc


if __name__ == "__main__":
    node.run()
