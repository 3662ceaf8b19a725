"""A grow-only set that gossips its whole state to every peer never: each node only knows its own adds."""

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


# no gossip at all

if __name__ == "__main__":
    node.run()
