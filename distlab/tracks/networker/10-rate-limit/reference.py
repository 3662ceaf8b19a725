"""Networker 10, reference: a token bucket in front of the backend. Tokens come at 45 a
second and at most 5 are saved up, so no second ever holds more than 50 calls; a
request that finds no token is refused at once (error 11)."""

from distlab import Node, RPCError

node = Node()
RATE = 45.0  # tokens a second
BURST = 5.0  # at most this many saved up: any second then holds at most RATE + BURST calls

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
