"""Identifier 5, reference: Snowflake ids whose timestamp never goes backwards.

The id's millisecond is max(clock, last used): a clock stepped back keeps using
the last millisecond (with a rising sequence) until real time catches up, and a
full sequence borrows the next millisecond.
"""

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
