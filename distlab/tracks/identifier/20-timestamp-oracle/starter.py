"""Identifier: ids from the lin-tso timestamp oracle, on a lossy network. Then `distlab check`."""

from distlab import Node

node = Node()


@node.on("generate")
async def generate(msg):
    # TODO: the request or the reply can be lost: what should happen when this times out?
    reply = await node.rpc("lin-tso", {"type": "ts"}, timeout=1.0)
    return {"type": "generate_ok", "id": reply.body["ts"]}


if __name__ == "__main__":
    node.run()
