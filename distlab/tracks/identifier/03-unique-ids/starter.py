"""Identifier 3 (Gossip Glomers 2): unique ids that keep flowing during partitions."""

from distlab import Node

node = Node()


@node.on("generate")
async def generate(msg):
    # TODO: every request must be answered even when this node cannot reach the
    # others. Can you hand out a unique id without asking anybody?
    return {"type": "generate_ok", "id": 0}


if __name__ == "__main__":
    node.run()
