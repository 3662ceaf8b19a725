"""Mutant: one attempt per request; a lost message fails the request."""

from distlab import Node, RPCError

node = Node()


@node.on("generate")
async def generate(msg):
    try:
        reply = await node.rpc("lin-tso", {"type": "ts"}, timeout=1.0)
    except RPCError as exc:
        return exc
    return {"type": "generate_ok", "id": reply.body["ts"]}


if __name__ == "__main__":
    node.run()
