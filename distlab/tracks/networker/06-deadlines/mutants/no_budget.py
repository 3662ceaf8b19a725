"""Mutant: keeps its own deadline but does not tell the backend, which works on after the client gave up."""

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
        pass
        try:
            reply = await node.rpc("backend", body, timeout=remaining)
            return {"type": "charge_ok", "receipt": reply.body["receipt"]}
        except RPCError as exc:
            if exc.code != 11:
                return exc
        await asyncio.sleep(min(0.01, max(0.0, deadline - node.now())))


if __name__ == "__main__":
    node.run()
