"""Mutant: a bucket of 50 tokens refilled at 50 a second: the saved-up second plus the
refill put nearly 100 calls in the first second."""

from distlab import Node, RPCError

node = Node()
RATE = 50.0  # the quota
BURST = 50.0  # a full second saved up

tokens = BURST
last = 0.0


def take() -> bool:
    global tokens, last
    now = node.now()
    tokens = min(BURST, tokens + (now - last) * RATE)
    last = now
    if tokens < 1.0:
        return False
    tokens -= 1.0
    return True


@node.on("quote")
async def quote(msg):
    if not take():
        return RPCError(11, "rate limited: over the backend's quota; try later")
    try:
        reply = await node.rpc("backend", {"type": "quote", "id": msg.body["id"]}, timeout=0.1)
    except RPCError as exc:
        return exc
    return {"type": "quote_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
