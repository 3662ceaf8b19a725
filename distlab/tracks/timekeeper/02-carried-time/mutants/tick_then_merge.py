"""Timekeeper 2, mutant: ticks first, then merges the request's `seen` (the steps swapped)."""

from distlab import Node

node = Node()
clock = 0


@node.on("stamp")
def stamp(msg):
    global clock
    clock = max(clock + 1, msg.body.get("seen", 0))  # a seen ahead of the clock comes back unchanged
    return {"type": "stamp_ok", "ts": clock}


if __name__ == "__main__":
    node.run()
