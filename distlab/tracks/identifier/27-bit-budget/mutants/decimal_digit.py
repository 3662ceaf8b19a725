"""Mistake: counter * 10 + node index, one decimal digit for the node: with 40 nodes,
counter 1 on node 12 and counter 2 on node 2 both give 22."""

from distlab import Node

node = Node()
counter = 0


@node.on("generate")
def generate(msg):
    global counter
    counter += 1
    return {"type": "generate_ok", "id": counter * 10 + node.node_ids.index(node.id)}


if __name__ == "__main__":
    node.run()
