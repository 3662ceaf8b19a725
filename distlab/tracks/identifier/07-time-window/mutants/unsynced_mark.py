"""Mutant: persists the high-water mark but never syncs it; a kill loses it."""

from distlab import Node

node = Node()
WINDOW_MS = 2_000
SEQUENCE_LIMIT = 1 << 12
last_millis = -(1 << 40)
sequence = 0
mark = -(1 << 40)  # no millisecond at or past this is used before it is synced


@node.on("init")
def start(msg):
    global last_millis, mark, sequence
    mark = node.storage.get("mark", mark)
    last_millis, sequence = mark, -1  # everything before the mark may have been used


@node.on("generate")
def generate(msg):
    global last_millis, sequence, mark
    millis = int(node.now() * 1000)
    if millis > last_millis:
        last_millis, sequence = millis, 0
    else:
        sequence += 1
        if sequence == SEQUENCE_LIMIT:
            last_millis, sequence = last_millis + 1, 0
    if last_millis >= mark:
        mark = last_millis + WINDOW_MS
        node.storage["mark"] = mark  # no sync()
    index = node.node_ids.index(node.id)
    return {"type": "generate_ok", "id": (last_millis << 22) | (index << 12) | sequence}


if __name__ == "__main__":
    node.run()
