"""Random ids: 64 random bits each, no coordination, no state, nothing to lose in a crash.

With n ids drawn from 2**64 values, the chance that any two are equal is about
n**2 / 2**65 (the birthday bound): for a million ids, about 3 in 100 million.
The randomness is the node's own generator (`node.random`), seeded differently
on every node and in every life of a node.
"""

from distlab import Node

node = Node()
BITS = 64


@node.on("generate")
def generate(msg):
    return {"type": "generate_ok", "id": node.random.getrandbits(BITS)}


if __name__ == "__main__":
    node.run()
