"""Mutant: the task-5 node: its guard against a clock stepping back lives in memory,
so a restart forgets it."""

from distlab import Node

node = Node()
last_millis = -(1 << 40)
sequence = 0
SEQUENCE_LIMIT = 1 << 12


@node.on("generate")
def generate(msg):
    global last_millis, sequence
    millis = int(node.now() * 1000)
    if millis > last_millis:
        last_millis, sequence = millis, 0
    else:
        sequence += 1
        if sequence == SEQUENCE_LIMIT:
            last_millis, sequence = last_millis + 1, 0
    index = node.node_ids.index(node.id)
    return {"type": "generate_ok", "id": (last_millis << 22) | (index << 12) | sequence}


if __name__ == "__main__":
    node.run()
