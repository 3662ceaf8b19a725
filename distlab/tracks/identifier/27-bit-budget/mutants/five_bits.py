"""Mistake: reserves 5 bits for the node index ("32 nodes will do"): node 33's index
spills into the counter's bits and lands on node 1's ids."""

from distlab import Node

node = Node()
counter = 0


@node.on("generate")
def generate(msg):
    global counter
    counter += 1
    index = node.node_ids.index(node.id)
    return {"type": "generate_ok", "id": (counter << 5) | index}


if __name__ == "__main__":
    node.run()
