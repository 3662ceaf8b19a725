"""Mistake: stamps each write with the node's own clock (node.now()); a node whose clock runs behind stamps its later writes lower, and they lose."""

from distlab import Node

node = Node()
ROUND = 0.25
stamp: list = [0.0, ""]  # [clock reading, node id] of the value held
value = None


def keep(other_stamp: list, other_value) -> None:
    global stamp, value
    if tuple(other_stamp) > tuple(stamp):
        stamp, value = list(other_stamp), other_value


@node.on("write")
def write(msg):
    keep([node.now(), node.id], msg.body["value"])
    return {"type": "write_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


@node.on("merge")
def merge(msg):
    keep(msg.body["stamp"], msg.body["value"])


def gossip_round() -> None:
    if stamp[0] == 0:
        return
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "merge", "stamp": stamp, "value": value})


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
