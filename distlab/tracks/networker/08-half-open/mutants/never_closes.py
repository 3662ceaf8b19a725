"""Mutant: once open, the breaker stays open: the backend comes back and the node never notices."""

from distlab import Node, RPCError

node = Node()
THRESHOLD = 3  # consecutive failures that open the breaker
COOLDOWN = 0.5  # seconds it stays open before one probe may go through
TIMEOUT = 0.2

failures = 0
open_until = 0.0
probing = False


@node.on("charge")
async def charge(msg):
    global failures, open_until, probing
    now = node.now()
    half_open = failures >= THRESHOLD
    if now < open_until or (half_open and probing):
        return RPCError(11, "circuit open: the backend is failing, not calling it")
    probing = half_open  # after the cooldown, this request is the one probe
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"]}
    try:
        reply = await node.rpc("backend", body, timeout=TIMEOUT)
    except RPCError as exc:
        if exc.code == 0:
            failures += 1
            if failures >= THRESHOLD:
                open_until = float("inf")  # open for good
        return exc
    finally:
        if half_open:
            probing = False
    failures = 0
    return {"type": "charge_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
