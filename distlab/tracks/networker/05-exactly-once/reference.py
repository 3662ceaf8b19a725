"""Networker 5, reference: exactly once. Retry until confirmed, always with the same
idempotency key (the request's id): however often the call arrives, the backend charges once."""

import asyncio

from distlab import Node, RPCError

node = Node()


@node.on("charge")
async def charge(msg):
    # The request's id names this charge for every attempt: the backend runs a key once.
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"], "key": msg.body["id"]}
    start = node.now()
    attempt = 0
    while True:
        try:
            reply = await node.rpc("backend", body, timeout=0.1)
            return {"type": "charge_ok", "receipt": reply.body["receipt"]}
        except RPCError as exc:
            if exc.code not in (0, 11) or node.now() - start > 3.0:
                return RPCError(0, f"no answer from the backend: {exc.text}") if exc.code == 0 else exc
        await asyncio.sleep(node.random.uniform(0, min(0.2, 0.01 * 2**attempt)))
        attempt += 1


if __name__ == "__main__":
    node.run()
