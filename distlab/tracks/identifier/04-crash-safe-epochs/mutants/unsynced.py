"""Mutant: an epoch written to storage but never synced; a kill loses it."""

from distlab import Node

node = Node()
epoch = 0
counter = 0


@node.on("init")
def start(msg):
    global epoch
    epoch = node.storage.get("epoch", 0) + 1
    node.storage["epoch"] = epoch  # no sync()


@node.on("generate")
def generate(msg):
    global counter
    counter += 1
    return {"type": "generate_ok", "id": f"{node.id}-{epoch}-{counter}"}


if __name__ == "__main__":
    node.run()
