"""Three classic unique-ids bugs; the command-line argument picks one.

- `no-node-id`: a per-node counter alone, so every node hands out 1, 2, 3...
- `volatile`:   node id + counter, but the counter restarts at 0 after a crash.
- `unsynced`:   takes an epoch from storage but never syncs it, so a crash
                loses the epoch and the ids of the previous life repeat.
"""

import sys

from distlab import Node

BUG = sys.argv[1] if len(sys.argv) > 1 else "no-node-id"
node = Node()
epoch = 0
counter = 0


@node.on("init")
def start(msg):
    global epoch
    if BUG == "unsynced":
        epoch = node.storage.get("epoch", 0) + 1
        node.storage["epoch"] = epoch  # no sync(): lost if the node crashes


@node.on("generate")
def generate(msg):
    global counter
    counter += 1
    if BUG == "no-node-id":
        return {"type": "generate_ok", "id": counter}
    return {"type": "generate_ok", "id": f"{node.id}-{epoch}-{counter}"}


if __name__ == "__main__":
    node.run()
