"""Timekeeper 1: a Lamport clock on one node."""

from distlab import Node

node = Node()


@node.on("stamp")
def stamp(msg):
    # TODO: msg.body may carry "seen", the largest timestamp this client has seen.
    # Return a timestamp greater than it and than every one this node returned before.
    return {"type": "stamp_ok", "ts": 0}


if __name__ == "__main__":
    node.run()
