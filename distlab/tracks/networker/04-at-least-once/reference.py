"""Networker 4, reference: at least once. A notification may be sent twice but never
lost: retry until the backend confirms (with backoff), and acknowledge only then."""

import asyncio

from distlab import Node, RPCError

node = Node()


@node.on("notify")
async def notify(msg):
    body = {"type": "notify", "id": msg.body["id"]}
    start = node.now()
    attempt = 0
    while True:
        try:
            reply = await node.rpc("backend", body, timeout=0.1)
            return {"type": "notify_ok", "receipt": reply.body["receipt"]}
        except RPCError as exc:
            if exc.code not in (0, 11) or node.now() - start > 3.0:
                return exc
        await asyncio.sleep(node.random.uniform(0, min(0.2, 0.01 * 2**attempt)))
        attempt += 1


if __name__ == "__main__":
    node.run()
