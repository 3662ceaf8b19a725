"""Unique ids that stay unique under partitions: no coordination, just the node id.

A per-node counter alone repeats across nodes; pairing it with the node id
makes every id distinct without a single message between nodes.
"""

from distlab import Node

node = Node()
counter = 0


@node.on("generate")
async def generate(msg):
    global counter
    counter += 1
    return {"type": "generate_ok", "id": f"{node.id}-{counter}"}


if __name__ == "__main__":
    node.run()
