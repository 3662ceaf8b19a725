"""A classic bug: a per-node counter without the node id repeats across nodes."""

from distlab import Node

node = Node()
counter = 0


@node.on("generate")
async def generate(msg):
    global counter
    counter += 1
    return {"type": "generate_ok", "id": counter}


node.run()
