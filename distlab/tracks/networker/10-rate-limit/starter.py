"""Networker 10: keep under the backend's quota of 50 calls in any second."""

from distlab import Node, RPCError

node = Node()


@node.on("quote")
async def quote(msg):
    # TODO: a token bucket. Keep `tokens` and the time you last topped it up; on each
    # request add (now - last) * RATE, cap at BURST, and take one token if there is
    # one. No token: answer error 11 at once, without calling.
    try:
        reply = await node.rpc("backend", {"type": "quote", "id": msg.body["id"]}, timeout=0.1)
    except RPCError as exc:
        return exc
    return {"type": "quote_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
