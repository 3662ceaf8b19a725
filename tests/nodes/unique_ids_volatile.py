"""Unique per node id, but the counter lives only in memory: a crash repeats ids."""

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
