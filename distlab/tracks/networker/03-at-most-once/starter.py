"""Networker 3: at most once, over a lossy link to a busy backend."""

from distlab import Node, RPCError

node = Node()


@node.on("charge")
async def charge(msg):
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]}
    try:
        reply = await node.rpc("backend", body, timeout=0.5)
    except RPCError as exc:
        # TODO: which errors prove the charge did not happen, so that trying again is
        # safe? Retry those (a few times, with a short pause); never repeat the others.
        return exc
    return {"type": "charge_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
