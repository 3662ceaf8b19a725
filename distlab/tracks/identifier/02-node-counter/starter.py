"""Identifier 2: ids unique across three nodes, with no messages between them."""

from distlab import Node

node = Node()
counter = 0


@node.on("generate")
def generate(msg):
    global counter
    counter += 1
    # TODO: two nodes must never return the same id; node.id names this node.
    return {"type": "generate_ok", "id": counter}


if __name__ == "__main__":
    node.run()
