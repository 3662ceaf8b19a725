"""Identifier 7: Snowflake ids that survive clock steps and crashes together."""

from distlab import Node

node = Node()
last_millis = -(1 << 40)
sequence = 0
SEQUENCE_LIMIT = 1 << 12


@node.on("init")
def start(msg):
    # TODO: runs after every restart. Start from a persisted high-water mark
    # (node.storage), beyond every millisecond an earlier life may have used.
    pass


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
    # TODO: before using a millisecond at or past the mark, sync a new mark ahead.
    index = node.node_ids.index(node.id)
    return {"type": "generate_ok", "id": (last_millis << 22) | (index << 12) | sequence}


if __name__ == "__main__":
    node.run()
