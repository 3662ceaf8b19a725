"""Networker 7, reference: a circuit breaker. After THRESHOLD timeouts in a row the
backend is taken for down: for COOLDOWN seconds requests are refused at once
(error 11, nothing was sent), then calls go through again."""

from distlab import Node, RPCError

node = Node()
THRESHOLD = 3  # timeouts in a row that open the breaker
COOLDOWN = 0.5  # seconds it stays open
TIMEOUT = 0.2

failures = 0
open_until = 0.0


@node.on("charge")
async def charge(msg):
    global failures, open_until
    if node.now() < open_until:
        return RPCError(11, "circuit open: the backend is failing, not calling it")
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]}
    try:
        reply = await node.rpc("backend", body, timeout=TIMEOUT)
    except RPCError as exc:
        if exc.code == 0:
            failures += 1
            if failures >= THRESHOLD:
                open_until = node.now() + COOLDOWN
        return exc
    failures = 0
    return {"type": "charge_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
