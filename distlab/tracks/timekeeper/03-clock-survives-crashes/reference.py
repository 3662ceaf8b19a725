"""Timekeeper 3, reference: a Lamport clock whose ceiling is kept in synced storage.

Writing every tick to disk would cost a sync per request, so the node reserves a
block: it syncs a ceiling ahead of the clock and only syncs again when the clock
reaches it. After a crash the clock restarts from the ceiling, which is above
every stamp the previous life handed out.
"""

from distlab import Node

node = Node()
BLOCK = 1000
clock = 0
ceiling = 0


def reserve(at_least):
    global ceiling
    ceiling = at_least + BLOCK
    node.storage["ceiling"] = ceiling
    node.storage.sync()


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
