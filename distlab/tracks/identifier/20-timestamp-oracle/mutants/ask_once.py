"""Mistake: asks lin-tso once; a lost request or reply fails the client's request."""

from distlab import Node

node = Node()


@node.on("generate")
async def generate(msg):
    reply = await node.rpc("lin-tso", {"type": "ts"}, timeout=1.0)
    return {"type": "generate_ok", "id": reply.body["ts"]}


if __name__ == "__main__":
    node.run()
