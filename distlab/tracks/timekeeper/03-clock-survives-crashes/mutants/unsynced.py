"""Timekeeper 3, mutant: the ceiling is written but never synced, so a crash loses it."""

from distlab import Node

node = Node()
BLOCK = 1000
clock = 0
ceiling = 0


def reserve(at_least):
    global ceiling
    ceiling = at_least + BLOCK
    node.storage["ceiling"] = ceiling


@node.on("init")
def start(msg):
    global clock
    clock = node.storage.get("ceiling", 0)
    reserve(clock)


@node.on("stamp")
def stamp(msg):
    global clock
    clock = max(clock, msg.body.get("seen", 0)) + 1
    if clock >= ceiling:
        reserve(clock)
    return {"type": "stamp_ok", "ts": clock}


if __name__ == "__main__":
    node.run()
