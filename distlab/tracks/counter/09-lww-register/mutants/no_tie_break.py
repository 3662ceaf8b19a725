"""Mistake: stamps writes with a Lamport counter alone and keeps a merged value only if its counter is higher: two nodes that write with the same counter each keep their own."""

from distlab import Node

node = Node()
ROUND = 0.25
clock = 0
stamp = 0  # the counter of the value held
value = None


def keep(other_stamp: int, other_value) -> None:
    global clock, stamp, value
    clock = max(clock, other_stamp)
    if other_stamp > stamp:
        stamp, value = other_stamp, other_value


@node.on("write")
def write(msg):
    global clock
    clock += 1
    keep(clock, msg.body["value"])
    return {"type": "write_ok"}


@node.on("read")
def read(msg):
    return {"type": "read_ok", "value": value}


@node.on("merge")
def merge(msg):
    keep(msg.body["stamp"], msg.body["value"])


def gossip_round() -> None:
    if stamp == 0:
        return
    for peer in node.node_ids:
        if peer != node.id:
            node.send(peer, {"type": "merge", "stamp": stamp, "value": value})


node.every(ROUND, gossip_round)

if __name__ == "__main__":
    node.run()
