"""Mutant: retries timeouts as well as rejections; a lost reply hides a charge, and the retry charges again."""

import asyncio

from distlab import Node, RPCError

node = Node()


@node.on("charge")
async def charge(msg):
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]}
    for attempt in range(8):
        try:
            reply = await node.rpc("backend", body, timeout=0.5)
        except RPCError as exc:
            if exc.code not in (0, 11):
                return exc
            await asyncio.sleep(node.random.uniform(0, 0.01 * 2**attempt))
            continue
        return {"type": "charge_ok", "receipt": reply.body["receipt"]}
    return RPCError(11, "backend stayed busy; nothing was charged")


if __name__ == "__main__":
    node.run()
