"""Timekeeper 7, reference: one node delivers messages in the order they arrive."""

from distlab import Node

node = Node()
delivered = []  # in delivery order
seen = set()


@node.on("broadcast")
def broadcast(msg):
    message = msg.body["message"]
    if message not in seen:
        seen.add(message)
        delivered.append(message)
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": list(delivered)}


if __name__ == "__main__":
    node.run()
