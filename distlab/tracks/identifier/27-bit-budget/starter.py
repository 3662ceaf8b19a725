"""Identifier: packed integer ids on 40 nodes. Fill in the TODO, then run `distlab check`."""

from distlab import Node

node = Node()
counter = 0


@node.on("generate")
def generate(msg):
    global counter
    counter += 1
    index = node.node_ids.index(node.id)
    # TODO: 4 bits hold indexes 0..15. How many does this cluster need?
    return {"type": "generate_ok", "id": (counter << 4) | index}


if __name__ == "__main__":
    node.run()
