"""Networker 2, reference: wait a bounded time for the backend; on a timeout tell the
client the truth, which is "I do not know" (code 0), not "it failed"."""

from distlab import Node, RPCError

node = Node()


@node.on("charge")
async def charge(msg):
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]}
    try:
        reply = await node.rpc("backend", body, timeout=0.5)
    except RPCError as exc:
        return exc  # a timeout is code 0: the charge may or may not have happened
    return {"type": "charge_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
