"""Mistake: no timestamps: a node takes whatever value a peer sends, so the replicas swap values forever."""

from distlab import Node

node = Node()
value = None


@node.on("write")
def write(msg):
    global value
    value = msg.body["value"]
    return {"type": "write_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


@node.on("merge")
def merge(msg):
    global value
    value = msg.body["value"]


def gossip_round() -> None:
    if value is None:
        return
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "merge", "value": value})


node.every(0.25, gossip_round)

if __name__ == "__main__":
    node.run()
