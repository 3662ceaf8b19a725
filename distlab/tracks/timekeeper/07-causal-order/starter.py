"""Timekeeper 7: causal order on one node."""

from distlab import Node

node = Node()
messages = set()


@node.on("broadcast")
def broadcast(msg):
    # msg.body["deps"] lists messages this one causally follows
    messages.add(msg.body["message"])
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    # TODO: in delivery order, each message after everything it depends on
    return {"type": "read_ok", "messages": list(messages)}


if __name__ == "__main__":
    node.run()
