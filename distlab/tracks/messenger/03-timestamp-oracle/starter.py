"""Messenger 3: ids from the lin-tso timestamp oracle."""

from distlab import Node

node = Node()


@node.on("generate")
async def generate(msg):
    # TODO: reply = await node.rpc("lin-tso", {"type": "ts"}, timeout=1.0)
    # and hand out reply.body["ts"].
    return {"type": "generate_ok", "id": None}


if __name__ == "__main__":
    node.run()
