"""Timekeeper 1, mutant: when the request carried a timestamp, merges it but forgets to tick."""

from distlab import Node

node = Node()
clock = 0


@node.on("stamp")
def stamp(msg):
    global clock
    if "seen" in msg.body:
        clock = max(clock, msg.body["seen"])  # merged, never ticked: the client's own stamp comes back
    else:
        clock += 1
    return {"type": "stamp_ok", "ts": clock}


if __name__ == "__main__":
    node.run()
