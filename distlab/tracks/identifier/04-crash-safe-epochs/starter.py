"""Identifier 4: unique ids across crashes and restarts."""

from distlab import Node

node = Node()
counter = 0


@node.on("init")
def start(msg):
    # TODO: runs at every (re)start. Make this life of the node distinguishable
    # from all earlier ones, durably: node.storage[...] = ...; node.storage.sync()
    pass


@node.on("generate")
def generate(msg):
    global counter
    counter += 1
    return {"type": "generate_ok", "id": f"{node.id}-{counter}"}


if __name__ == "__main__":
    node.run()
