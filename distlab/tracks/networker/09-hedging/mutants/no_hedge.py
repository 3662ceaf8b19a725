"""Mutant: one call per request; the slow one in twenty sets the p99."""

from distlab import Node, RPCError

node = Node()


@node.on("quote")
async def quote(msg):
    try:
        reply = await node.rpc("backend", {"type": "quote", "id": msg.body["id"]}, timeout=1.0)
    except RPCError as exc:
        return exc
    return {"type": "quote_ok", "receipt": reply.body["receipt"]}


if __name__ == "__main__":
    node.run()
