"""Identifier 2, reference: the node id makes every node's counter a separate id space."""

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
