"""Mutant: a timeout on every call, but no breaker: each request waits out the dead backend."""

from distlab import Node, RPCError

node = Node()


@node.on("charge")
async def charge(msg):
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]}
    try:
        reply = await node.rpc("backend", body, timeout=0.2)
    except RPCError as exc:
        return exc
    return {"type": "charge_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
