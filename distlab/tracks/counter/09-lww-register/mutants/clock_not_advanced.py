"""Mistake: the Lamport clock counts this node's writes but does not move up to the stamps it merges: after hearing of a write stamped 9, a node whose clock is at 2 stamps its next write 3, and it loses."""

from distlab import Node

node = Node()
ROUND = 0.25
clock = 0
stamp: list = [0, ""]  # [counter, node id] of the value held
value = None


def keep(other_stamp: list, other_value) -> None:
    global stamp, value
    if tuple(other_stamp) > tuple(stamp):
        stamp, value = list(other_stamp), other_value


@node.on("write")
def write(msg):
    global clock
    clock += 1
    keep([clock, node.id], msg.body["value"])
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
