"""Networker 6, reference: the client's budget becomes a deadline on arrival; every call
carries what is left of it, and no call is made once it has passed."""

import asyncio

from distlab import Node, RPCError

node = Node()


@node.on("charge")
async def charge(msg):
    deadline = node.now() + msg.body["budget_ms"] / 1000  # when the client stops waiting
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]}
    while True:
        remaining = deadline - node.now()
        if remaining <= 0.005:
            return RPCError(0, "deadline exceeded")
        body["budget_ms"] = int(remaining * 1000)  # what is left, not what the client had
        try:
            reply = await node.rpc("backend", body, timeout=remaining)
            return {"type": "charge_ok", "receipt": reply.body["receipt"]}
        except RPCError as exc:
            if exc.code != 11:
                return exc
        await asyncio.sleep(min(0.01, max(0.0, deadline - node.now())))


if __name__ == "__main__":
    node.run()
