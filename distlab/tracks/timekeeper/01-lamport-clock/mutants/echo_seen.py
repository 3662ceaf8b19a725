"""Timekeeper 1, mutant: no clock of its own, only one more than what the client saw."""

from distlab import Node

node = Node()


@node.on("stamp")
def stamp(msg):
    return {"type": "stamp_ok", "ts": msg.body.get("seen", 0) + 1}


if __name__ == "__main__":
    node.run()
