"""Mutant: ids from a counter in memory, prefixed with the node's id, with no oracle: unique
across nodes, but a restarted node counts from 1 again."""

from distlab import Node

node = Node()
counter = 0


@node.on("generate")
def generate(msg):
    global counter
    counter += 1
    return {"type": "generate_ok", "id": f"{node.id}-{counter}"}


if __name__ == "__main__":
    node.run()
