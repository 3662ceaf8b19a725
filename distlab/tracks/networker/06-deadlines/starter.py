"""Networker 6: pass the client's deadline on to the backend."""

import asyncio

from distlab import Node, RPCError

node = Node()


@node.on("charge")
async def charge(msg):
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]}
    # TODO: msg.body["budget_ms"] is how long the client waits. Work out the deadline
    # now; before each attempt, stop if it has passed, and send the backend what is
    # left of it as "budget_ms" (and wait no longer than that for the reply).
    while True:
        try:
            reply = await node.rpc("backend", body, timeout=1.0)
            return {"type": "charge_ok", "receipt": reply.body["receipt"]}
        except RPCError as exc:
            if exc.code != 11:
                return exc
        await asyncio.sleep(0.01)


if __name__ == "__main__":
    node.run()
