"""Networker 2: the backend sometimes hangs; answer every request within 1 s."""

from distlab import Node, RPCError

node = Node()


@node.on("charge")
async def charge(msg):
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]}
    try:
        # TODO: a call can hang for seconds, and the client must hear back within 1 s:
        # choose a timeout, and think about what a timeout tells you (and the client)
        reply = await node.rpc("backend", body, timeout=None)
    except RPCError as exc:
        return exc
    return {"type": "charge_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
