"""Packed integer ids: a counter in the high bits, the node's index in as many low bits as needed.

The number of bits for the node index comes from the cluster's size, not from
a guess: with 40 nodes, 6 bits (0..63). Two ids from different nodes differ in
the low bits, and two from one node differ in the counter.
"""

from distlab import Node

node = Node()
counter = 0


@node.on("generate")
def generate(msg):
    global counter
    counter += 1
    index = node.node_ids.index(node.id)
    bits = max(1, (len(node.node_ids) - 1).bit_length())  # enough for every index
    return {"type": "generate_ok", "id": (counter << bits) | index}


if __name__ == "__main__":
    node.run()
