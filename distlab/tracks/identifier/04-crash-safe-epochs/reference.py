"""Identifier 4, reference: an epoch taken from synced storage at every start, in every id.

A counter alone repeats across nodes, so ids carry the node id. A counter in
memory also restarts from zero after a crash, so each life of the node first
takes a fresh epoch from durable storage (synced before any id is handed out).
"""

from distlab import Node

node = Node()
epoch = 0
counter = 0


@node.on("init")
def start(msg):
    global epoch
    epoch = node.storage.get("epoch", 0) + 1
    node.storage["epoch"] = epoch
    node.storage.sync()


@node.on("generate")  # nothing to await: a plain function is enough (and cheaper)
def generate(msg):
    global counter
    counter += 1
    return {"type": "generate_ok", "id": f"{node.id}-{epoch}-{counter}"}


if __name__ == "__main__":
    node.run()
