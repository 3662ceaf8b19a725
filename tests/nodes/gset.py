"""A grow-only set that gossips its whole state to every peer twice a second.

With `--no-gossip` on its command line it never gossips: each node knows only
its own adds, which the final reads must catch.
"""

import sys

from distlab import Node

node = Node()
elements = set()


@node.on("add")
def add(msg):
    elements.add(msg.body["element"])
    return {"type": "add_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": sorted(elements)}


@node.on("echo")
def echo(msg):
    return {"type": "echo_ok", "echo": msg.body["echo"]}


@node.on("merge")
def merge(msg):
    elements.update(msg.body["value"])


def gossip():
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "merge", "value": sorted(elements)})


if "--no-gossip" not in sys.argv:
    node.every(0.5, gossip)

if __name__ == "__main__":
    node.run()
