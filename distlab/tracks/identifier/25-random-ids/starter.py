"""Identifier: random ids. Fill in the TODO, then run `distlab check`."""

from distlab import Node

node = Node()


@node.on("generate")
def generate(msg):
    # TODO: how many random bits make a repeat among ~10,000 ids (or billions) negligible?
    return {"type": "generate_ok", "id": node.random.randrange(1000)}


if __name__ == "__main__":
    node.run()
