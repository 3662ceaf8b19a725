"""Mutant: remembers only the last msg_id from each sender, as if a duplicate always came
right after its original; on a network that reorders, an older one comes back later."""

from distlab import Node

node = Node()
value = 0
last: dict[str, int] = {}


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
    if last.get(msg.src) != msg.body["msg_id"]:
        last[msg.src] = msg.body["msg_id"]
        value += msg.body["delta"]
    return {"type": "inc_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


if __name__ == "__main__":
    node.run()
