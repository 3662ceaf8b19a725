"""Mutant: a timeout is reported as error 11, "nothing happened"; the slow call went on and charged."""

from distlab import Node, RPCError

node = Node()


@node.on("charge")
async def charge(msg):
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]}
    try:
        reply = await node.rpc("backend", body, timeout=0.5)
    except RPCError:
        return RPCError(11, "the backend did not answer in time")
    return {"type": "charge_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
