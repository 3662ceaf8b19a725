"""Timekeeper 8: causal delivery on three nodes."""

from distlab import Node

node = Node()
delivered = []  # in delivery order


@node.on("broadcast")
def broadcast(msg):
    message = msg.body["message"]
    if message not in delivered:
        delivered.append(message)
        for peer in node.node_ids:
            if peer != node.id:
                node.send(peer, {"type": "forward", "message": message, "deps": msg.body.get("deps", [])})
    return {"type": "broadcast_ok"}


@node.on("forward")
def forward(msg):
    # TODO: msg.body["deps"] may not have arrived here yet
    if msg.body["message"] not in delivered:
        delivered.append(msg.body["message"])


@node.on("read")
def read(msg):
    return {"type": "read_ok", "messages": list(delivered)}


if __name__ == "__main__":
    node.run()
