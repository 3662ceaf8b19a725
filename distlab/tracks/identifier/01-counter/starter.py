"""Identifier 1: hand out unique ids from one node."""

from distlab import Node

node = Node()


@node.on("generate")
def generate(msg):
    # TODO: return {"type": "generate_ok", "id": ...} with an id never returned before.
    return {"type": "generate_ok", "id": 0}


if __name__ == "__main__":
    node.run()
