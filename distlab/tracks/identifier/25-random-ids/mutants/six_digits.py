"""Mistake: random six-digit ids. A million values sound like plenty, but a few
thousand draws are enough for two to be equal (the birthday paradox)."""

from distlab import Node

node = Node()


@node.on("generate")
def generate(msg):
    return {"type": "generate_ok", "id": node.random.randrange(1_000_000)}


if __name__ == "__main__":
    node.run()
