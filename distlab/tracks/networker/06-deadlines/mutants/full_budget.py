"""Mutant: passes the client's whole budget on every attempt, forgetting the time already spent."""

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
        body["budget_ms"] = msg.body["budget_ms"]  # the client's budget, passed on
        try:
            reply = await node.rpc("backend", body, timeout=remaining)
            return {"type": "charge_ok", "receipt": reply.body["receipt"]}
        except RPCError as exc:
            if exc.code != 11:
                return exc
        await asyncio.sleep(min(0.01, max(0.0, deadline - node.now())))


if __name__ == "__main__":
    node.run()
