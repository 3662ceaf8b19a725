"""A g-set that mishandles an element added twice (Maelstrom issue #95).

It keeps its elements in a list and gossips new ones to its peers. With a word
on its command line:
  list    an add appends even when the element is there already: reads show it twice
  toggle  an add of an element already there takes it out again (a set kept as
          "seen an odd number of times"): the element is lost
Without a word it checks membership first and is right.
"""

import sys

from distlab import Node

node = Node()
elements = []
MODE = sys.argv[1] if len(sys.argv) > 1 else ""


def add_local(element):
    if element not in elements:
        elements.append(element)
    elif MODE == "list":
        elements.append(element)
    elif MODE == "toggle":
        elements.remove(element)


@node.on("add")
def add(msg):
    element = msg.body["element"]
    add_local(element)
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "gossip", "element": element})
    return {"type": "add_ok"}


@node.on("gossip")
def gossip(msg):
    add_local(msg.body["element"])


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": list(elements)}


if __name__ == "__main__":
    node.run()
