"""Mistake: sends each delta to every peer once, and peers add what they receive.

A dropped message loses the delta on that peer for ever; a duplicated one counts
it twice.
"""

from distlab import Node

node = Node()
value = 0


@node.on("add")
def add(msg):
    global value
    value += msg.body["delta"]
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "delta", "delta": msg.body["delta"]})
    return {"type": "add_ok"}


@node.on("delta")
def delta(msg):
    global value
    value += msg.body["delta"]


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
