"""Timekeeper 3: a Lamport clock that survives crashes."""

from distlab import Node

node = Node()
clock = 0  # TODO: lost in a crash; node.storage (dict-like, with .sync()) is not


@node.on("stamp")
def stamp(msg):
    global clock
    clock = max(clock, msg.body.get("seen", 0)) + 1
    return {"type": "stamp_ok", "ts": clock}


if __name__ == "__main__":
    node.run()
