"""Timekeeper 11, mutant: a Lamport clock dressed as a pair; l never looks at the physical clock."""

from distlab import Node

node = Node()
counter = 0


@node.on("stamp")
def stamp(msg):
    global counter
    counter = max(counter, msg.body.get("seen", [0, 0])[1]) + 1
    return {"type": "stamp_ok", "ts": [0, counter]}


if __name__ == "__main__":
    node.run()
