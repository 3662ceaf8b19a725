"""Timekeeper 8, mutant: delivers each message the moment it arrives, deps or not."""

from distlab import Node

node = Node()
delivered = []  # in delivery order
have = set()  # delivered


def accept(message, deps):
    if message in have:
        return False
    have.add(message)
    delivered.append(message)  # the deps "will arrive soon anyway"
    return True


@node.on("broadcast")
def broadcast(msg):
    message, deps = msg.body["message"], msg.body.get("deps", [])
    if accept(message, deps):
        for peer in node.node_ids:
            if peer != node.id:
                node.send(peer, {"type": "forward", "message": message, "deps": deps})
    return {"type": "broadcast_ok"}


@node.on("forward")
def forward(msg):
    accept(msg.body["message"], msg.body["deps"])


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": list(delivered)}


if __name__ == "__main__":
    node.run()
