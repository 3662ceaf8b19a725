"""Networker 7: a circuit breaker in front of a backend that goes down."""

from distlab import Node, RPCError

node = Node()
TIMEOUT = 0.2


@node.on("charge")
async def charge(msg):
    # TODO: count timeouts in a row (a success resets the count). After a few, stop
    # calling for a while: answer error 11 at once, without calling the backend.
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]}
    try:
        reply = await node.rpc("backend", body, timeout=TIMEOUT)
    except RPCError as exc:
        return exc
    return {"type": "charge_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
