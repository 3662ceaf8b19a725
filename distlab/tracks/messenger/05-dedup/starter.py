"""Messenger 5: a counter replicated by delta messages, over a network that duplicates."""

from distlab import Node

node = Node()
value = 0


@node.on("add")
def add(msg):
    global value
    delta = msg.body["delta"]
    value += delta
    for peer in node.node_ids:
        if peer != node.id:
            node.spawn(node.rpc(peer, {"type": "inc", "delta": delta}, timeout=None))
    return {"type": "add_ok"}


@node.on("inc")
def inc(msg):
    global value
    # TODO: the same message can arrive twice (same msg.src, same msg.body["msg_id"]).
    # Apply each one once; acknowledge every copy.
    value += msg.body["delta"]
    return {"type": "inc_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
