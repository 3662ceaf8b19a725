"""Mutant: a per-node counter without the node id."""

from distlab import Node

node = Node()
counter = 0


@node.on("generate")
def generate(msg):
    global counter
    counter += 1
    return {"type": "generate_ok", "id": counter}


if __name__ == "__main__":
    node.run()
