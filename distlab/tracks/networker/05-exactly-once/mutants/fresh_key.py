"""Mutant: a new idempotency key for every attempt; to the backend each retry is a new charge."""

import asyncio

from distlab import Node, RPCError

node = Node()


@node.on("charge")
async def charge(msg):
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]}
    start = node.now()
    attempt = 0
    while True:
        body["key"] = f"{node.id}-{node.random.getrandbits(64):x}"  # a new key for each attempt
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
