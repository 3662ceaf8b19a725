"""Networker 3, reference: at most once. Retry a busy rejection (error 11 proves nothing
was done); never repeat a call that timed out (it may have charged): report it as unknown."""

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
            if exc.code != 11:  # a timeout may have charged: never repeat it
                return exc
            await asyncio.sleep(node.random.uniform(0, 0.01 * 2**attempt))
            continue
        return {"type": "charge_ok", "receipt": reply.body["receipt"]}
    return RPCError(11, "backend stayed busy; nothing was charged")


if __name__ == "__main__":
    node.run()
