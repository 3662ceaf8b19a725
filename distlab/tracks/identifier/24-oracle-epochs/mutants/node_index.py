"""Mistake: uses the node's index as the epoch: unique across nodes, not across lives.

After a restart the counter is back at zero under the same epoch, and the
node hands out the ids of its previous life again.
"""

from distlab import Node

node = Node()
COUNTER_BITS = 32
counter = 0


@node.on("generate")
def generate(msg):
    global counter
    counter += 1
    epoch = node.node_ids.index(node.id)
    return {"type": "generate_ok", "id": (epoch << COUNTER_BITS) | counter}


if __name__ == "__main__":
    node.run()
