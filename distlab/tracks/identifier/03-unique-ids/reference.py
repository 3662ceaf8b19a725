"""Identifier 3, reference: node id + counter needs no coordination, so partitions cannot block it."""

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
