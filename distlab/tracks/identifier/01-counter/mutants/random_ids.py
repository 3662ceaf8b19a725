"""Mutant: random ids from 0..99,999 — they collide (birthday bound)."""

from distlab import Node

node = Node()


@node.on("generate")
def generate(msg):
    return {"type": "generate_ok", "id": node.random.randint(0, 99_999)}


if __name__ == "__main__":
    node.run()
