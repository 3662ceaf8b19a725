"""Mutant: no limiter; every request becomes a call, three times the quota."""

from distlab import Node, RPCError

node = Node()


@node.on("quote")
async def quote(msg):
    try:
        reply = await node.rpc("backend", {"type": "quote", "id": msg.body["id"]}, timeout=0.1)
    except RPCError as exc:
        return exc
    return {"type": "quote_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
