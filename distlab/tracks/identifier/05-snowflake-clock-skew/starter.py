"""Identifier 5: Snowflake ids (millis, node index, sequence) under clock skew."""

from distlab import Node

node = Node()
last_millis = None
sequence = 0


@node.on("generate")
def generate(msg):
    global last_millis, sequence
    millis = int(node.now() * 1000)
    # TODO: the clock can jump backwards. Never reuse a (millis, sequence) pair
    # this node used before, and keep the sequence below 4096.
    if millis == last_millis:
        sequence += 1
    else:
        sequence = 0
    last_millis = millis
    index = node.node_ids.index(node.id)
    return {"type": "generate_ok", "id": (millis << 22) | (index << 12) | sequence}


if __name__ == "__main__":
    node.run()
