"""Mistake: 64 random bits from a generator seeded with a constant "for reproducibility".

Every node starts the same sequence, so the nodes hand out each other's ids.
"""

import random

from distlab import Node

node = Node()
rng = random.Random(42)


@node.on("generate")
def generate(msg):
    return {"type": "generate_ok", "id": rng.getrandbits(64)}


if __name__ == "__main__":
    node.run()
