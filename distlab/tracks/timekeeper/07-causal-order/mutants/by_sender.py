"""Timekeeper 7, mutant: groups messages by the client that sent them."""

from distlab import Node

node = Node()
by_client = {}


@node.on("broadcast")
def broadcast(msg):
    by_client.setdefault(msg.src, []).append(msg.body["message"])
    return {"type": "broadcast_ok"}


@node.on("read")
def read(msg):
    # each client's messages stay in order; across clients, nothing says which came first
    return {"type": "read_ok", "messages": [m for client in sorted(by_client) for m in by_client[client]]}


if __name__ == "__main__":
    node.run()
