"""Mutant: no timeout; a lost message leaves the handler (and its client) waiting."""

from distlab import Node

node = Node()


@node.on("generate")
async def generate(msg):
    reply = await node.rpc("lin-tso", {"type": "ts"}, timeout=None)
    return {"type": "generate_ok", "id": reply.body["ts"]}


if __name__ == "__main__":
    node.run()
